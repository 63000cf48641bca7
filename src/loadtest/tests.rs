use super::*;

#[test]
fn only_loopback_urls_are_accepted() {
    for ok in [
        "ws://127.0.0.1:8080/chat",
        "ws://127.3.2.1/chat",
        "ws://localhost:8080/chat",
        "ws://[::1]:8080/chat",
    ] {
        assert!(check_url(ok).is_ok(), "{ok}");
    }
    for bad in [
        "ws://10.0.0.1:8080/chat",
        "ws://example.org/chat",
        "ws://[::2]/chat",
        "ws://localhost.example.org/chat",
        "wss://127.0.0.1/chat",
        "http://127.0.0.1/chat",
        "ws://0.0.0.0/chat",
    ] {
        assert!(check_url(bad).is_err(), "{bad}");
    }
}
