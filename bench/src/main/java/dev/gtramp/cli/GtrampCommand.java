package dev.gtramp.cli;

import dev.gtramp.kernel.KernelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The {@code gtramp} command line: the entry point of {@code bin/gtramp}.
 */
@Command(name = "gtramp",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A model of the Linux kernel's BPF tracing multi-link subsystem: global trampoline, "
                + "single direct ftrace_ops and per-function trampolines.",
        subcommands = {StudyCommand.class, ImageCommand.class, CommandLine.HelpCommand.class})
public final class GtrampCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Builds the command line with the project's settings; tests drive it through this. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new GtrampCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // Bad input is reported as one line naming the culprit, not as a stack trace.
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof KernelException || ex instanceof IOException || ex instanceof UncheckedIOException) {
                cmd.getErr().println("gtramp " + cmd.getCommandName() + ": " + ex.getMessage());
                cmd.getErr().flush();
                return 1;
            }
            throw ex;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
