//! `frontdesk widget snippet`: the one tag a clinic adds to its pages, with
//! a Subresource Integrity hash of the widget this binary serves.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct WidgetArgs {
    #[command(subcommand)]
    pub command: WidgetCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum WidgetCommand {
    /// Print the <script> tag for pages at a given public Frontdesk URL.
    Snippet(SnippetArgs),
}

#[derive(clap::Args, Debug)]
pub struct SnippetArgs {
    /// Where patients reach this server, e.g. https://chat.example-clinic.org
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    pub url: String,
    /// The clinic name shown in the chat panel.
    #[arg(long, default_value = "Our clinic")]
    pub title: String,
    /// The launcher and accent colour, as #rrggbb.
    #[arg(long, default_value = "#0b6e4f")]
    pub color: String,
    /// en or es; without it the widget follows the page's lang.
    #[arg(long)]
    pub lang: Option<crate::lang::Lang>,
}

pub fn run(args: WidgetArgs) -> ExitCode {
    let WidgetCommand::Snippet(a) = args.command;
    match snippet(&a) {
        Ok(tag) => {
            println!("{tag}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("frontdesk widget snippet: {e}");
            ExitCode::from(2)
        }
    }
}

fn snippet(a: &SnippetArgs) -> Result<String, String> {
    let url = a.url.trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err("--url must start with https:// (or http:// for local testing)".into());
    }
    let color_ok = a.color.len() == 7
        && a.color.starts_with('#')
        && a.color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !color_ok {
        return Err("--color must look like #0b6e4f".into());
    }
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let lang = a
        .lang
        .map(|l| format!(" data-lang=\"{l}\""))
        .unwrap_or_default();
    Ok(format!(
        "<script src=\"{}/widget.js?v={}\" integrity=\"{}\" crossorigin=\"anonymous\" data-title=\"{}\" data-color=\"{}\"{lang} async></script>",
        escape(url),
        env!("CARGO_PKG_VERSION"),
        crate::http::pages::widget_integrity(),
        escape(&a.title),
        a.color,
    ))
}
