//! A calendar file (RFC 5545) for a booked appointment. It names the visit,
//! the place and the time, and nothing about the patient.

use jiff::Timestamp;

use crate::clinic::Clinic;
use crate::store::Appointment;

/// Escapes text for an iCalendar property value.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace(['\r', '\n'], " ")
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

pub fn render(clinic: &Clinic, a: &Appointment) -> String {
    let kind = clinic
        .schedule
        .appointment_type(&a.type_id)
        .map_or(a.type_id.as_str(), |t| t.name.as_str());
    let provider = clinic
        .schedule
        .provider(&a.provider)
        .map_or(a.provider.as_str(), |p| p.name.as_str());
    let location = clinic.schedule.location(&a.location);
    let place = location.map_or(a.location.clone(), |l| match &l.address {
        Some(addr) => format!("{}, {addr}", l.name),
        None => l.name.clone(),
    });
    let start = Timestamp::from_second(a.starts_at).unwrap_or(Timestamp::UNIX_EPOCH);
    let end = Timestamp::from_second(a.ends_at).unwrap_or(Timestamp::UNIX_EPOCH);
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Frontdesk//Appointments//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@frontdesk", a.code),
        format!("DTSTAMP:{}", stamp(Timestamp::now())),
        format!("DTSTART:{}", stamp(start)),
        format!("DTEND:{}", stamp(end)),
        format!("SUMMARY:{}", escape(&format!("{kind} with {provider}"))),
        format!("LOCATION:{}", escape(&place)),
        format!(
            "DESCRIPTION:{}",
            escape(&format!(
                "{} appointment. Confirmation code {}.",
                clinic.name, a.code
            ))
        ),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.join("\r\n") + "\r\n"
}
