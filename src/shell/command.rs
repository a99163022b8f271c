//! The shell's commands: each parses its own arguments and runs against a `ShellEnvironment`,
//! which the kernel implements with the real machine and host tests with a recorder.
#![forbid(unsafe_code)]

use core::fmt;

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::arch::x86::cmos_clock::DateTime;
use crate::boot::command_line::FaultScenario;
use crate::console::{Color, ColorCode};

/// What commands may do to the machine they run on.
pub trait ShellEnvironment {
    /// Writes text on the screen (and the serial mirror) in the current colors.
    fn write(&mut self, text: fmt::Arguments);
    /// Writes text in `color`, then goes back to the current colors.
    fn write_colored(&mut self, color: ColorCode, text: fmt::Arguments);
    /// The colors text is written in.
    fn text_color(&self) -> ColorCode;
    fn set_text_color(&mut self, color: ColorCode);
    fn clear_screen(&mut self);
    fn uptime_microseconds(&self) -> u64;
    /// The date and time of the battery-backed clock.
    fn date(&self) -> DateTime;
    /// Lists the CPU's vendor, brand and features.
    fn show_cpu(&mut self);
    /// Lists the memory map, the frames and the heap.
    fn show_memory(&mut self);
    /// Runs the demo until a key is pressed.
    fn run_demo(&mut self);
    /// Provokes `fault`; returns only from a breakpoint.
    fn provoke(&mut self, fault: FaultScenario);
    /// Lists the threads: id, name, state, CPU time, stack use.
    fn list_threads(&mut self);
    /// Starts a background thread of `kind` and says which.
    fn spawn_background(&mut self, kind: BackgroundKind);
    /// Ends thread `id` if the shell started it.
    fn kill(&mut self, id: u32) -> KillOutcome;
    /// Blocks the shell (only) for `milliseconds`.
    fn sleep_milliseconds(&mut self, milliseconds: u64);
    fn reboot(&mut self) -> !;
    fn halt(&mut self) -> !;
}

/// What `spawn` can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundKind {
    /// A CPU-bound thread that counts until it is killed.
    Spin,
    /// A thread that sends numbered messages to an echo thread over channels and checks every
    /// answer, until it is killed.
    Traffic,
}

/// What became of a `kill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillOutcome {
    /// The thread stopped; its loop had run this many rounds.
    Stopped {
        rounds: u64,
    },
    /// A thread the shell did not start (the keyboard driver, say): left alone.
    NotStartedByShell,
    NoSuchThread,
}

/// The longest `sleep`, so a typo cannot take the shell away for days.
pub const MAXIMUM_SLEEP_MILLISECONDS: u64 = 600_000;

/// What a command gets to run with.
pub struct Invocation<'line, 'run> {
    /// The name it was called by.
    pub name: &'line str,
    /// The text after the name.
    pub arguments: &'line str,
    pub shell: &'run mut dyn ShellEnvironment,
    pub commands: &'run CommandTable,
}

impl Invocation<'_, '_> {
    fn write(&mut self, text: fmt::Arguments) {
        self.shell.write(text);
    }
}

/// One shell command: how `help` describes it, and what it does.
pub trait ShellCommand {
    /// The arguments it takes, as `help` shows them (empty for none).
    fn arguments(&self) -> &'static str;
    /// A one-line description.
    fn summary(&self) -> &'static str;
    /// Checks the arguments and does the work.
    fn run<'line>(&self, invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>>;
}

/// The colors headings and command names are written in.
pub const HEADING_COLOR: ColorCode = ColorCode::new(Color::Yellow, Color::Black);

/// What a command without arguments does.
type Action = fn(&mut Invocation);

/// A command that takes no arguments and does one thing.
struct Simple {
    summary: &'static str,
    action: Action,
}

impl ShellCommand for Simple {
    fn arguments(&self) -> &'static str {
        ""
    }

    fn summary(&self) -> &'static str {
        self.summary
    }

    fn run<'line>(&self, mut invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        if !invocation.arguments.is_empty() {
            return Err(ShellError::TooManyArguments { command: invocation.name, usage: "" });
        }
        (self.action)(&mut invocation);
        Ok(())
    }
}

fn help(invocation: &mut Invocation) {
    let commands = invocation.commands;
    for (name, command) in commands.iter() {
        invocation.write(format_args!("  "));
        invocation.shell.write_colored(HEADING_COLOR, format_args!("{name:<8}"));
        invocation.write(format_args!("{:<12}{}\n", command.arguments(), command.summary()));
    }
    invocation.write(format_args!(
        "Keys: arrows, Home/End, Backspace/Delete, Ctrl-U clears, Ctrl-C abandons,\n"
    ));
    invocation.write(format_args!("Ctrl-L clears the screen, Up/Down browse the history.\n"));
}

fn uptime(invocation: &mut Invocation) {
    let milliseconds = invocation.shell.uptime_microseconds() / 1000;
    invocation.write(format_args!("{}.{:03} s\n", milliseconds / 1000, milliseconds % 1000));
}

fn date(invocation: &mut Invocation) {
    let date = invocation.shell.date();
    invocation.write(format_args!("{date} (CMOS clock)\n"));
}

struct Echo;

impl ShellCommand for Echo {
    fn arguments(&self) -> &'static str {
        "<text>"
    }

    fn summary(&self) -> &'static str {
        "print the text"
    }

    fn run<'line>(&self, mut invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        let text = invocation.arguments;
        invocation.write(format_args!("{text}\n"));
        Ok(())
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

struct SetColor;

impl ShellCommand for SetColor {
    fn arguments(&self) -> &'static str {
        "<fg> [bg]"
    }

    fn summary(&self) -> &'static str {
        "set text colors (names or 0-15)"
    }

    fn run<'line>(&self, invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        let name = invocation.name;
        let [foreground, background] = words(name, self.arguments(), invocation.arguments, 1)?;
        let color = |argument: &'line str| {
            Color::parse(argument).ok_or(ShellError::BadColor { command: name, argument })
        };
        let foreground = color(foreground.unwrap_or_default())?;
        let background = match background {
            Some(argument) => color(argument)?,
            None => invocation.shell.text_color().background(),
        };
        invocation.shell.set_text_color(ColorCode::new(foreground, background));
        invocation.shell.write(format_args!(
            "text is now {} on {}\n",
            foreground.name(),
            background.name()
        ));
        Ok(())
    }
}

/// Parses a decimal argument.
fn number<'a>(command: &'a str, argument: &'a str) -> Result<u64, ShellError<'a>> {
    argument.parse().map_err(|_| ShellError::BadNumber { command, argument })
}

struct Spawn;

impl ShellCommand for Spawn {
    fn arguments(&self) -> &'static str {
        "<kind>"
    }

    fn summary(&self) -> &'static str {
        "start a thread: spin (busy) or traffic (channels)"
    }

    fn run<'line>(&self, invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        let [kind] = words(invocation.name, self.arguments(), invocation.arguments, 1)?;
        let kind = match kind.unwrap_or_default() {
            "spin" => BackgroundKind::Spin,
            "traffic" => BackgroundKind::Traffic,
            other => return Err(ShellError::UnknownThreadKind(other)),
        };
        invocation.shell.spawn_background(kind);
        Ok(())
    }
}

struct Kill;

impl ShellCommand for Kill {
    fn arguments(&self) -> &'static str {
        "<id>"
    }

    fn summary(&self) -> &'static str {
        "stop a thread the shell started"
    }

    fn run<'line>(&self, mut invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        let name = invocation.name;
        let [id] = words(name, self.arguments(), invocation.arguments, 1)?;
        let id = id.unwrap_or_default();
        let number = number(name, id)?;
        let number = u32::try_from(number)
            .map_err(|_| ShellError::BadNumber { command: name, argument: id })?;
        match invocation.shell.kill(number) {
            KillOutcome::Stopped { rounds } => {
                invocation.write(format_args!("thread {number} stopped after {rounds} rounds\n"))
            }
            KillOutcome::NotStartedByShell => {
                return Err(ShellError::NotOurs(number));
            }
            KillOutcome::NoSuchThread => return Err(ShellError::NoSuchThread(number)),
        }
        Ok(())
    }
}

struct Sleep;

impl ShellCommand for Sleep {
    fn arguments(&self) -> &'static str {
        "<ms>"
    }

    fn summary(&self) -> &'static str {
        "block the shell for a while"
    }

    fn run<'line>(&self, invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        let name = invocation.name;
        let [argument] = words(name, self.arguments(), invocation.arguments, 1)?;
        let argument = argument.unwrap_or_default();
        let milliseconds = number(name, argument)?;
        if milliseconds > MAXIMUM_SLEEP_MILLISECONDS {
            return Err(ShellError::TooLong { command: name, argument });
        }
        invocation.shell.sleep_milliseconds(milliseconds);
        Ok(())
    }
}

struct Fault;

impl ShellCommand for Fault {
    fn arguments(&self) -> &'static str {
        "<kind>"
    }

    fn summary(&self) -> &'static str {
        "provoke a CPU fault to see its report"
    }

    fn run<'line>(&self, mut invocation: Invocation<'line, '_>) -> Result<(), ShellError<'line>> {
        let [kind] = words(invocation.name, self.arguments(), invocation.arguments, 1)?;
        let kind = kind.unwrap_or_default();
        let scenario = FaultScenario::from_name(kind).ok_or(ShellError::UnknownFault(kind))?;
        invocation.shell.provoke(scenario);
        invocation.write(format_args!("fault: execution continued after the breakpoint\n"));
        Ok(())
    }
}

/// Puts `command` into `commands` at its place in name order.
fn add(
    commands: &mut Vec<(&'static str, Box<dyn ShellCommand>)>,
    name: &'static str,
    command: Box<dyn ShellCommand>,
) {
    let index = commands.partition_point(|(known, _)| *known < name);
    commands.insert(index, (name, command));
}

/// Every command by name; `help` lists them in the map's (alphabetical) order.
pub struct CommandTable {
    /// Sorted by name, for `help` and binary search (a `BTreeMap` measured 3 KB more code).
    commands: Vec<(&'static str, Box<dyn ShellCommand>)>,
}

impl CommandTable {
    pub fn new() -> CommandTable {
        let mut commands: Vec<(&'static str, Box<dyn ShellCommand>)> = Vec::with_capacity(17);
        let simple: [(&'static str, &'static str, Action); 11] = [
            ("help", "list the commands", help),
            ("clear", "clear the screen", |invocation| invocation.shell.clear_screen()),
            ("uptime", "seconds since boot", uptime),
            ("date", "date and time from the CMOS clock", date),
            ("cpu", "CPU vendor, brand and features", |invocation| invocation.shell.show_cpu()),
            ("mem", "memory map, frames and heap", |invocation| invocation.shell.show_memory()),
            ("demo", "the SSE raymarching demo, until a key", |invocation| {
                invocation.shell.run_demo()
            }),
            ("panic", "panic the kernel", |_| panic!("the shell's panic command")),
            ("ps", "threads: state, CPU time, stack use", |invocation| {
                invocation.shell.list_threads()
            }),
            ("reboot", "restart the machine", |invocation| invocation.shell.reboot()),
            ("halt", "stop the CPU", |invocation| invocation.shell.halt()),
        ];
        for (name, summary, action) in simple {
            add(&mut commands, name, Box::new(Simple { summary, action }));
        }
        add(&mut commands, "echo", Box::new(Echo));
        add(&mut commands, "color", Box::new(SetColor));
        add(&mut commands, "fault", Box::new(Fault));
        add(&mut commands, "spawn", Box::new(Spawn));
        add(&mut commands, "kill", Box::new(Kill));
        add(&mut commands, "sleep", Box::new(Sleep));
        CommandTable { commands }
    }

    /// Every command with its name, in alphabetical order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &dyn ShellCommand)> + '_ {
        self.commands.iter().map(|(name, command)| (*name, command.as_ref()))
    }

    /// Runs `line`: finds the command by its first word and hands it the rest.
    pub fn run<'line>(
        &self,
        line: &'line str,
        shell: &mut dyn ShellEnvironment,
    ) -> Result<(), ShellError<'line>> {
        let line = line.trim_ascii();
        let (name, arguments) = match line.split_once(' ') {
            Some((name, rest)) => (name, rest.trim_ascii_start()),
            None => (line, ""),
        };
        if name.is_empty() {
            return Ok(());
        }
        let index = self
            .commands
            .binary_search_by_key(&name, |(known, _)| *known)
            .map_err(|_| ShellError::UnknownCommand(name))?;
        let command = &self.commands[index].1;
        command.run(Invocation { name, arguments, shell, commands: self })
    }
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a line could not be run; shown as one line naming the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellError<'a> {
    UnknownCommand(&'a str),
    MissingArgument { command: &'a str, usage: &'static str },
    TooManyArguments { command: &'a str, usage: &'static str },
    BadColor { command: &'a str, argument: &'a str },
    UnknownFault(&'a str),
    BadNumber { command: &'a str, argument: &'a str },
    TooLong { command: &'a str, argument: &'a str },
    UnknownThreadKind(&'a str),
    NotOurs(u32),
    NoSuchThread(u32),
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
            ShellError::UnknownFault(kind) => {
                write!(formatter, "fault: unknown kind '{kind}'; known: {}", FaultScenario::names())
            }
            ShellError::BadNumber { command, argument } => {
                write!(formatter, "{command}: '{argument}' is not a number")
            }
            ShellError::TooLong { command, argument } => write!(
                formatter,
                "{command}: {argument} ms is too long (at most {MAXIMUM_SLEEP_MILLISECONDS})"
            ),
            ShellError::UnknownThreadKind(kind) => {
                write!(formatter, "spawn: unknown kind '{kind}'; known: spin traffic")
            }
            ShellError::NotOurs(id) => {
                write!(formatter, "kill: thread {id} was not started by the shell; left alone")
            }
            ShellError::NoSuchThread(id) => write!(formatter, "kill: no thread {id} (see 'ps')"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// Records what the commands did.
    struct Recorder {
        text: String,
        color: ColorCode,
        calls: Vec<&'static str>,
        provoked: Option<FaultScenario>,
        slept: u64,
    }

    impl Recorder {
        fn new() -> Recorder {
            Recorder {
                text: String::new(),
                color: ColorCode::new(Color::LightGray, Color::Black),
                calls: Vec::new(),
                provoked: None,
                slept: 0,
            }
        }
    }

    impl ShellEnvironment for Recorder {
        fn write(&mut self, text: fmt::Arguments) {
            self.text.push_str(&text.to_string());
        }
        fn write_colored(&mut self, _color: ColorCode, text: fmt::Arguments) {
            self.text.push_str(&text.to_string());
        }
        fn text_color(&self) -> ColorCode {
            self.color
        }
        fn set_text_color(&mut self, color: ColorCode) {
            self.color = color;
        }
        fn clear_screen(&mut self) {
            self.calls.push("clear");
        }
        fn uptime_microseconds(&self) -> u64 {
            12_345_678
        }
        fn date(&self) -> DateTime {
            DateTime { year: 2026, month: 11, day: 23, hour: 9, minute: 5, second: 1 }
        }
        fn show_cpu(&mut self) {
            self.calls.push("cpu");
        }
        fn show_memory(&mut self) {
            self.calls.push("mem");
        }
        fn run_demo(&mut self) {
            self.calls.push("demo");
        }
        fn provoke(&mut self, fault: FaultScenario) {
            self.provoked = Some(fault);
        }
        fn list_threads(&mut self) {
            self.calls.push("ps");
        }
        fn spawn_background(&mut self, kind: BackgroundKind) {
            self.calls.push(match kind {
                BackgroundKind::Spin => "spawn spin",
                BackgroundKind::Traffic => "spawn traffic",
            });
        }
        fn kill(&mut self, id: u32) -> KillOutcome {
            self.calls.push("kill");
            match id {
                7 => KillOutcome::Stopped { rounds: 1234 },
                1 => KillOutcome::NotStartedByShell,
                _ => KillOutcome::NoSuchThread,
            }
        }
        fn sleep_milliseconds(&mut self, milliseconds: u64) {
            self.slept += milliseconds;
        }
        fn reboot(&mut self) -> ! {
            panic!("reboot")
        }
        fn halt(&mut self) -> ! {
            panic!("halt")
        }
    }

    fn run(line: &str) -> (Result<(), String>, Recorder) {
        let mut recorder = Recorder::new();
        let result =
            CommandTable::new().run(line, &mut recorder).map_err(|error| error.to_string());
        (result, recorder)
    }

    #[test]
    fn help_lists_every_command_alphabetically_in_lines_that_fit_the_screen() {
        let (result, recorder) = run("help");
        assert!(result.is_ok());
        let names: Vec<&str> = recorder
            .text
            .lines()
            .take_while(|line| line.starts_with("  "))
            .map(|line| line.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "clear", "color", "cpu", "date", "demo", "echo", "fault", "halt", "help", "kill",
                "mem", "panic", "ps", "reboot", "sleep", "spawn", "uptime"
            ]
        );
        assert!(recorder.text.lines().all(|line| line.len() < 80));
    }

    #[test]
    fn commands_do_what_they_say() {
        assert_eq!(run("echo  hello   world ").1.text, "hello   world\n");
        assert_eq!(run("echo").1.text, "\n");
        assert_eq!(run("uptime").1.text, "12.345 s\n");
        assert_eq!(run("date").1.text, "2026-11-23 09:05:01 (CMOS clock)\n");
        assert_eq!(run("   ").1.text, "");
        for (line, call) in [("clear", "clear"), ("cpu", "cpu"), ("mem", "mem"), ("demo", "demo")] {
            assert_eq!(run(line).1.calls, [call], "{line}");
        }
        let (result, recorder) = run("fault breakpoint");
        assert!(result.is_ok());
        assert_eq!(recorder.provoked, Some(FaultScenario::Breakpoint));
    }

    #[test]
    fn colors_are_taken_by_name_or_number_and_keep_the_background_unless_given() {
        let (_, recorder) = run("color light-green 1");
        assert_eq!(recorder.color, ColorCode::new(Color::LightGreen, Color::Blue));
        assert_eq!(recorder.text, "text is now light-green on blue\n");
        let (_, recorder) = run("color 14");
        assert_eq!(recorder.color, ColorCode::new(Color::Yellow, Color::Black));
        assert_eq!(Color::parse("WHITE"), Some(Color::White));
        assert_eq!(Color::parse("16"), None);
    }

    #[test]
    fn errors_name_the_command_in_one_line_and_change_nothing() {
        let message = |line| run(line).0.unwrap_err();
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
             stack-overflow thread-stack-overflow null write-text out-of-memory panic"
        );
        assert_eq!(message("fault"), "fault: missing argument; usage: fault <kind>");
        let (_, recorder) = run("color purple");
        assert_eq!(recorder.color, ColorCode::new(Color::LightGray, Color::Black));
        assert!(recorder.text.is_empty() && recorder.provoked.is_none());
    }

    #[test]
    fn thread_commands_reach_the_machine_and_explain_what_went_wrong() {
        let (result, recorder) = run("ps");
        assert!(result.is_ok());
        assert_eq!(recorder.calls, ["ps"]);
        let (result, recorder) = run("spawn spin");
        assert!(result.is_ok());
        assert_eq!(recorder.calls, ["spawn spin"]);
        assert_eq!(run("spawn traffic").1.calls, ["spawn traffic"]);
        let message = |line| run(line).0.unwrap_err();
        assert_eq!(message("spawn"), "spawn: missing argument; usage: spawn <kind>");
        assert_eq!(message("spawn fork"), "spawn: unknown kind 'fork'; known: spin traffic");
        let (result, recorder) = run("kill 7");
        assert!(result.is_ok());
        assert_eq!(recorder.text, "thread 7 stopped after 1234 rounds\n");
        assert_eq!(message("kill 1"), "kill: thread 1 was not started by the shell; left alone");
        assert_eq!(message("kill 99"), "kill: no thread 99 (see 'ps')");
        assert_eq!(message("kill seven"), "kill: 'seven' is not a number");
        assert_eq!(message("kill 99999999999"), "kill: '99999999999' is not a number");
        let (result, recorder) = run("sleep 250");
        assert!(result.is_ok());
        assert_eq!(recorder.slept, 250);
        assert_eq!(message("sleep -5"), "sleep: '-5' is not a number");
        assert_eq!(message("sleep 600001"), "sleep: 600001 ms is too long (at most 600000)");
    }
}
