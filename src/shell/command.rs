//! The shell's commands: their names and descriptions, and parsing a line into one.

use core::fmt;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

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

/// One shell command: how it is described in `help`, and how its arguments are read.
pub trait ShellCommand {
    /// The arguments it takes, as `help` shows them (empty for none).
    fn arguments(&self) -> &'static str;
    /// A one-line description.
    fn summary(&self) -> &'static str;
    /// Reads the text after the command's name.
    fn parse<'a>(&self, name: &'a str, arguments: &'a str) -> Result<Command<'a>, ShellError<'a>>;
}

/// A command that takes no arguments.
struct NoArguments {
    command: Command<'static>,
    summary: &'static str,
}

impl ShellCommand for NoArguments {
    fn arguments(&self) -> &'static str {
        ""
    }

    fn summary(&self) -> &'static str {
        self.summary
    }

    fn parse<'a>(&self, name: &'a str, arguments: &'a str) -> Result<Command<'a>, ShellError<'a>> {
        if arguments.is_empty() {
            Ok(self.command)
        } else {
            Err(ShellError::TooManyArguments { command: name, usage: "" })
        }
    }
}

struct EchoCommand;

impl ShellCommand for EchoCommand {
    fn arguments(&self) -> &'static str {
        "<text>"
    }

    fn summary(&self) -> &'static str {
        "print the text"
    }

    fn parse<'a>(&self, _name: &'a str, arguments: &'a str) -> Result<Command<'a>, ShellError<'a>> {
        Ok(Command::Echo(arguments))
    }
}

/// The space-separated words of `arguments`: at least `required` and at most `MOST`, else
/// the error a person needs (which command, and its usage).
fn words<'a, const MOST: usize>(
    command: &'a str,
    usage: &'static str,
    arguments: &'a str,
    required: usize,
) -> Result<[Option<&'a str>; MOST], ShellError<'a>> {
    let mut found = [None; MOST];
    let mut words = arguments.split(' ').filter(|word| !word.is_empty());
    for slot in found.iter_mut() {
        *slot = words.next();
    }
    if words.next().is_some() {
        return Err(ShellError::TooManyArguments { command, usage });
    }
    if found.iter().take(required).any(Option::is_none) {
        return Err(ShellError::MissingArgument { command, usage });
    }
    Ok(found)
}

struct ColorCommand;

impl ShellCommand for ColorCommand {
    fn arguments(&self) -> &'static str {
        "<fg> [bg]"
    }

    fn summary(&self) -> &'static str {
        "set text colors (names or 0-15)"
    }

    fn parse<'a>(&self, name: &'a str, arguments: &'a str) -> Result<Command<'a>, ShellError<'a>> {
        let [foreground_name, background_name] = words(name, self.arguments(), arguments, 1)?;
        let foreground_name = foreground_name.unwrap_or_default();
        let color = |argument| {
            parse_color(argument).ok_or(ShellError::BadColor { command: name, argument })
        };
        let foreground = color(foreground_name)?;
        let background = background_name.map(color).transpose()?;
        Ok(Command::Color { foreground, background })
    }
}

struct FaultCommand;

impl ShellCommand for FaultCommand {
    fn arguments(&self) -> &'static str {
        "<kind>"
    }

    fn summary(&self) -> &'static str {
        "provoke a CPU fault to see its report"
    }

    fn parse<'a>(&self, name: &'a str, arguments: &'a str) -> Result<Command<'a>, ShellError<'a>> {
        let [kind] = words(name, self.arguments(), arguments, 1)?;
        let kind = kind.unwrap_or_default();
        FaultScenario::from_name(kind)
            .map(Command::Fault)
            .ok_or(ShellError::UnknownFault { argument: kind })
    }
}

/// Every command by name; `help` lists them in the map's (alphabetical) order.
pub struct CommandTable {
    commands: BTreeMap<&'static str, Box<dyn ShellCommand>>,
}

impl CommandTable {
    pub fn new() -> CommandTable {
        let mut commands: BTreeMap<&'static str, Box<dyn ShellCommand>> = BTreeMap::new();
        let simple = [
            ("help", Command::Help, "list the commands"),
            ("clear", Command::Clear, "clear the screen"),
            ("uptime", Command::Uptime, "seconds since boot"),
            ("date", Command::Date, "date and time from the CMOS clock"),
            ("cpu", Command::Cpu, "CPU vendor, brand and features"),
            ("mem", Command::Mem, "memory map, frames and heap"),
            ("demo", Command::Demo, "the SSE raymarching demo, until a key"),
            ("panic", Command::Panic, "panic the kernel"),
            ("reboot", Command::Reboot, "restart the machine"),
            ("halt", Command::Halt, "stop the CPU"),
        ];
        for (name, command, summary) in simple {
            commands.insert(name, Box::new(NoArguments { command, summary }));
        }
        commands.insert("echo", Box::new(EchoCommand));
        commands.insert("color", Box::new(ColorCommand));
        commands.insert("fault", Box::new(FaultCommand));
        CommandTable { commands }
    }

    /// Every command with its name, in alphabetical order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &dyn ShellCommand)> + '_ {
        self.commands.iter().map(|(name, command)| (*name, command.as_ref()))
    }

    /// Parses a line into a command, checking its arguments.
    pub fn parse<'a>(&self, line: &'a str) -> Result<Command<'a>, ShellError<'a>> {
        let line = line.trim();
        let (name, arguments) = match line.split_once(' ') {
            Some((name, rest)) => (name, rest.trim_start()),
            None => (line, ""),
        };
        if name.is_empty() {
            return Ok(Command::Empty);
        }
        let command = self.commands.get(name).ok_or(ShellError::UnknownCommand(name))?;
        command.parse(name, arguments)
    }
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn parse_command(line: &str) -> Result<Command<'_>, ShellError<'_>> {
        CommandTable::new().parse(line)
    }

    #[test]
    fn every_command_parses_when_used_as_documented_and_help_is_alphabetical() {
        let table = CommandTable::new();
        let names: std::vec::Vec<&str> = table.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "clear", "color", "cpu", "date", "demo", "echo", "fault", "halt", "help", "mem",
                "panic", "reboot", "uptime"
            ]
        );
        let examples = ["color yellow", "echo hi", "fault divide"];
        for (name, command) in table.iter() {
            let example = examples.iter().find(|example| example.starts_with(name)).copied();
            assert!(table.parse(example.unwrap_or(name)).is_ok(), "{name}");
            assert!(!command.summary().is_empty());
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
        for (name, command) in CommandTable::new().iter() {
            let line = std::format!("  {name:<8}{:<12}{}", command.arguments(), command.summary());
            assert!(line.len() < 80, "{line}");
        }
    }
}
