//! The shell's commands: their names and descriptions, and parsing a line into one.

use core::fmt;

use crate::command_line::FaultScenario;
use crate::console::Color;

/// A command and what it needs, as the shell will run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    Empty,
    Help,
    Clear,
    Echo(&'a str),
    Color { foreground: Color, background: Option<Color> },
    Uptime,
    Date,
    Cpu,
    Mem,
    Demo,
    Fault(FaultScenario),
    Panic,
    Reboot,
    Halt,
}

/// A command's name, arguments and one-line description, for `help`.
pub struct CommandHelp {
    pub name: &'static str,
    pub arguments: &'static str,
    pub summary: &'static str,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: [CommandHelp; 13] = [
    CommandHelp { name: "help", arguments: "", summary: "list the commands" },
    CommandHelp { name: "clear", arguments: "", summary: "clear the screen" },
    CommandHelp { name: "echo", arguments: "<text>", summary: "print the text" },
    CommandHelp {
        name: "color",
        arguments: "<fg> [bg]",
        summary: "set text colors (names or 0-15)",
    },
    CommandHelp { name: "uptime", arguments: "", summary: "seconds since boot" },
    CommandHelp { name: "date", arguments: "", summary: "date and time from the CMOS clock" },
    CommandHelp { name: "cpu", arguments: "", summary: "CPU vendor, brand and features" },
    CommandHelp { name: "mem", arguments: "", summary: "the memory map and usable memory" },
    CommandHelp { name: "demo", arguments: "", summary: "the SSE raymarching demo, until a key" },
    CommandHelp {
        name: "fault",
        arguments: "<kind>",
        summary: "provoke a CPU fault to see its report",
    },
    CommandHelp { name: "panic", arguments: "", summary: "panic the kernel" },
    CommandHelp { name: "reboot", arguments: "", summary: "restart the machine" },
    CommandHelp { name: "halt", arguments: "", summary: "stop the CPU" },
];

/// Color names `color` accepts, in palette order.
pub const COLOR_NAMES: [&str; 16] = [
    "black",
    "blue",
    "green",
    "cyan",
    "red",
    "magenta",
    "brown",
    "light-gray",
    "dark-gray",
    "light-blue",
    "light-green",
    "light-cyan",
    "light-red",
    "pink",
    "yellow",
    "white",
];

/// Why a line could not be run; shown as one line naming the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellError<'a> {
    UnknownCommand(&'a str),
    MissingArgument { command: &'a str, usage: &'static str },
    TooManyArguments { command: &'a str, usage: &'static str },
    BadColor { command: &'a str, argument: &'a str },
    UnknownFault { argument: &'a str },
}

impl fmt::Display for ShellError<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShellError::UnknownCommand(name) => {
                write!(formatter, "{name}: unknown command (type 'help' for the list)")
            }
            ShellError::MissingArgument { command, usage } => {
                write!(formatter, "{command}: missing argument; usage: {command} {usage}")
            }
            ShellError::TooManyArguments { command, usage: "" } => {
                write!(formatter, "{command}: takes no arguments")
            }
            ShellError::TooManyArguments { command, usage } => {
                write!(formatter, "{command}: too many arguments; usage: {command} {usage}")
            }
            ShellError::BadColor { command, argument } => write!(
                formatter,
                "{command}: '{argument}' is not a color (0-15, black, blue, ..., yellow, white)"
            ),
            ShellError::UnknownFault { argument } => {
                write!(formatter, "fault: unknown kind '{argument}'; known:")?;
                for (name, _) in FaultScenario::ALL {
                    write!(formatter, " {name}")?;
                }
                Ok(())
            }
        }
    }
}

/// The color called `name` (see `COLOR_NAMES`) or numbered 0-15.
pub fn parse_color(name: &str) -> Option<Color> {
    if let Ok(number) = name.parse::<u8>() {
        return (number < 16).then(|| Color::from_number(number));
    }
    let index = COLOR_NAMES.iter().position(|known| known.eq_ignore_ascii_case(name))?;
    Some(Color::from_number(index as u8))
}

fn usage_of(name: &str) -> &'static str {
    COMMANDS.iter().find(|command| command.name == name).map_or("", |command| command.arguments)
}

/// Parses a line into a command, checking its arguments.
pub fn parse_command(line: &str) -> Result<Command<'_>, ShellError<'_>> {
    let line = line.trim();
    let (name, rest) = match line.split_once(' ') {
        Some((name, rest)) => (name, rest.trim_start()),
        None => (line, ""),
    };
    let mut arguments = rest.split(' ').filter(|word| !word.is_empty());
    let missing = || ShellError::MissingArgument { command: name, usage: usage_of(name) };
    let too_many = || ShellError::TooManyArguments { command: name, usage: usage_of(name) };
    let no_arguments = |command: Command<'static>| {
        if rest.is_empty() { Ok(command) } else { Err(too_many()) }
    };
    match name {
        "" => Ok(Command::Empty),
        "help" => no_arguments(Command::Help),
        "clear" => no_arguments(Command::Clear),
        "echo" => Ok(Command::Echo(rest)),
        "color" => {
            let foreground_name = arguments.next().ok_or_else(missing)?;
            let background_name = arguments.next();
            if arguments.next().is_some() {
                return Err(too_many());
            }
            let bad = |argument| ShellError::BadColor { command: name, argument };
            let foreground = parse_color(foreground_name).ok_or_else(|| bad(foreground_name))?;
            let background = match background_name {
                Some(background) => Some(parse_color(background).ok_or_else(|| bad(background))?),
                None => None,
            };
            Ok(Command::Color { foreground, background })
        }
        "uptime" => no_arguments(Command::Uptime),
        "date" => no_arguments(Command::Date),
        "cpu" => no_arguments(Command::Cpu),
        "mem" => no_arguments(Command::Mem),
        "demo" => no_arguments(Command::Demo),
        "fault" => {
            let kind = arguments.next().ok_or_else(missing)?;
            if arguments.next().is_some() {
                return Err(too_many());
            }
            FaultScenario::from_name(kind)
                .map(Command::Fault)
                .ok_or(ShellError::UnknownFault { argument: kind })
        }
        "panic" => no_arguments(Command::Panic),
        "reboot" => no_arguments(Command::Reboot),
        "halt" => no_arguments(Command::Halt),
        _ => Err(ShellError::UnknownCommand(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn every_listed_command_parses_when_used_as_documented() {
        let examples = [
            "help",
            "clear",
            "echo hi",
            "color yellow",
            "uptime",
            "date",
            "cpu",
            "mem",
            "demo",
            "fault divide",
            "panic",
            "reboot",
            "halt",
        ];
        for (command, example) in COMMANDS.iter().zip(examples) {
            assert!(example.starts_with(command.name));
            assert!(parse_command(example).is_ok(), "{example}");
        }
    }

    #[test]
    fn echo_keeps_the_text_after_the_command() {
        assert_eq!(parse_command("echo  hello   world "), Ok(Command::Echo("hello   world")));
        assert_eq!(parse_command("echo"), Ok(Command::Echo("")));
        assert_eq!(parse_command("   "), Ok(Command::Empty));
    }

    #[test]
    fn colors_are_taken_by_name_or_number() {
        assert_eq!(
            parse_command("color light-green 1"),
            Ok(Command::Color { foreground: Color::LightGreen, background: Some(Color::Blue) })
        );
        assert_eq!(
            parse_command("color 14"),
            Ok(Command::Color { foreground: Color::Yellow, background: None })
        );
        assert_eq!(parse_color("WHITE"), Some(Color::White));
        assert_eq!(parse_color("16"), None);
    }

    #[test]
    fn errors_name_the_command_in_one_line() {
        let message = |line| parse_command(line).unwrap_err().to_string();
        assert_eq!(
            message("frobnicate now"),
            "frobnicate: unknown command (type 'help' for the list)"
        );
        assert_eq!(message("color"), "color: missing argument; usage: color <fg> [bg]");
        assert_eq!(
            message("color red blue green"),
            "color: too many arguments; usage: color <fg> [bg]"
        );
        assert_eq!(
            message("color purple"),
            "color: 'purple' is not a color (0-15, black, blue, ..., yellow, white)"
        );
        assert_eq!(message("uptime now"), "uptime: takes no arguments");
        assert_eq!(
            message("fault melt"),
            "fault: unknown kind 'melt'; known: divide invalid-opcode general-protection breakpoint \
             stack-overflow null write-text out-of-memory panic"
        );
        assert_eq!(message("fault"), "fault: missing argument; usage: fault <kind>");
    }

    #[test]
    fn help_lines_fit_the_screen() {
        for command in &COMMANDS {
            let line =
                std::format!("  {:<8}{:<12}{}", command.name, command.arguments, command.summary);
            assert!(line.len() < 80, "{line}");
        }
    }
}
