package dev.gtramp.cli;

import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyRunner;
import dev.gtramp.study.calls.JmhCallCosts;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The study's progress on stderr: a progress bar (me.tongfei:progressbar) over the study's steps
 * when stderr is a terminal, nothing otherwise, so redirected output and CI logs stay clean.
 */
final class StudyProgress implements AutoCloseable {
    private final boolean terminal;
    private ProgressBar bar;

    private StudyProgress(boolean terminal) {
        this.terminal = terminal;
    }

    /** A bar on stderr if stderr is a terminal, else silent. */
    static StudyProgress onStderr() {
        return new StudyProgress(stderrIsTerminal());
    }

    /**
     * Whether stderr is a terminal. Java has no isatty; on Linux {@code /proc/self/fd/2} names the
     * device, elsewhere a console (stdin and stdout on a terminal) is taken to mean stderr too.
     */
    static boolean stderrIsTerminal() {
        Path fd2 = Path.of("/proc/self/fd/2");
        try {
            String target = Files.readSymbolicLink(fd2).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null;
        }
    }

    /** A listener that moves the bar and hands every partial result to {@code partial}. */
    StudyRunner.Listener then(Consumer<StudyResult> partial) {
        return new StudyRunner.Listener() {
            @Override
            public void step(String what, int done, int total) {
                if (!terminal) {
                    return;
                }
                if (bar == null) {
                    bar = new ProgressBarBuilder().setTaskName("study").setInitialMax(total)
                            .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                            .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
                }
                bar.stepTo(done);
                bar.setExtraMessage(what);
            }

            @Override
            public void partial(StudyResult soFar) {
                partial.accept(soFar);
            }
        };
    }

    /** Progress of the per-call cases, shown as the bar's message while JMH runs them. */
    JmhCallCosts.Progress calls() {
        return (what, done, total) -> {
            if (bar != null) {
                bar.setExtraMessage("per-call case " + (done + 1) + "/" + total + ": " + what);
            }
        };
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
