package dev.gtramp.cli;

import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.study.Kinds;
import dev.gtramp.study.StudyDesign;
import dev.gtramp.study.StudyDesigns;
import dev.gtramp.study.StudyOptions;
import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyRunner;
import dev.gtramp.study.calls.JmhCallCosts;
import dev.gtramp.study.report.StudyCsv;
import dev.gtramp.study.report.StudyHtml;
import dev.gtramp.study.report.StudyJson;
import dev.gtramp.study.report.StudyPlots;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gtramp study}: the attach-scaling study. Every design attaches one empty program per kind
 * to N functions for each N of the sweep, and is measured (the model's wall time), counted (every
 * event, exactly) and projected (the counted events times the cost table's unit costs: kernel
 * time); the per-call cost of each design is measured with JMH; the published numbers are set
 * beside the projections of their scenarios. Writes a table to stdout, and {@code study.json},
 * {@code study.csv}, the plots and {@code report.html} to {@code --out}.
 */
@Command(name = "study", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The attach-scaling study: attach one empty program per kind to N functions under every "
                + "design, measure, count every event, project the kernel time, and report.",
            "Writes a table to stdout, and study.json, study.csv, plots (PNG and SVG) and report.html to --out."})
final class StudyCommand implements Callable<Integer> {
    @Option(names = "--designs", split = ",", paramLabel = "NAME",
            description = "Designs to run (default: all registered: ${COMPLETION-CANDIDATES}).",
            completionCandidates = DesignNames.class)
    List<String> designs = new ArrayList<>();

    @Option(names = "--sizes", split = ",", paramLabel = "N",
            description = "Numbers of functions, or 'all' (default: 100,1000,10000,all).")
    List<String> sizes;

    @Option(names = "--kinds", split = ",", paramLabel = "KIND",
            description = "Program kinds: fentry, fexit, fmod_ret (default: fentry).")
    List<String> kinds;

    @Option(names = "--match", paramLabel = "GLOB",
            description = "Only functions the glob selects; --match 'ksys_*' is bpftrace's fentry:vmlinux:ksys_*.")
    String match;

    @Option(names = "--deny", split = ",", paramLabel = "GLOB", description = "Leave out functions these globs select.")
    List<String> deny = new ArrayList<>();

    @Option(names = "--synthetic", paramLabel = "N",
            description = "Run on a synthetic image of N functions (up to 1,000,000) instead of Linux 6.18.")
    int synthetic;

    @Option(names = "--repeat", paramLabel = "R", description = "Measured runs per row after one warm-up (default: 3).")
    Integer repeat;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the function sample and the synthetic image (default: 1).")
    long seed = 1;

    @Option(names = "--quick", description = "Fewer runs and short JMH settings in the study's JVM.")
    boolean quick;

    @Option(names = "--full", description = "More runs and JMH with 5 forks of 5 iterations of 1 s.")
    boolean full;

    @Option(names = "--row-budget", paramLabel = "SECONDS",
            description = "The most model time one row may take; longer rows are skipped and reported, and rows get "
                    + "fewer runs when R would not fit (default: 20, --quick 5, --full none; 0 for none).")
    Double rowBudget;

    @Option(names = "--no-calls", description = "Skip the per-call measurement (JMH).")
    boolean noCalls;

    @Option(names = "--no-published", description = "Skip the published scenarios.")
    boolean noPublished;

    @Option(names = "--cost-model", paramLabel = "FILE", description = "A cost table instead of the committed one.")
    Path costModel;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write the files (default: study-out).")
    Path out = Path.of("study-out");

    @Option(names = "--json", description = "Print the study as one JSON object instead of the table.")
    boolean json;

    @Option(names = "--csv", description = "Print the rows as CSV instead of the table.")
    boolean csv;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The registered design names, for the help text. */
    static final class DesignNames extends ArrayList<String> {
        DesignNames() {
            super(StudyDesigns.load().names());
        }
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        try {
            StudyOptions options = options();
            prepareOut();
            String command = commandLine(spec.commandLine().getParseResult().originalArgs());
            StudyResult result;
            try (StudyProgress progress = StudyProgress.onStderr()) {
                StudyDesigns designs = StudyDesigns.load();
                StudyRunner runner = new StudyRunner(designs, new JmhCallCosts(designs, progress.calls()));
                result = runner.run(options, command, progress.then(this::writePartial));
            }
            writeFiles(result);
            if (json) {
                stdout.println(StudyJson.toJson(result));
            } else if (csv) {
                StringWriter w = new StringWriter();
                StudyCsv.write(result, w);
                stdout.print(w);
            } else {
                StudyTable.print(result, out, stdout);
            }
            stdout.flush();
            return 0;
        } catch (KernelException e) {
            return fail(stdout, stderr, e.errno().name(), e.getMessage(), 1);
        } catch (UncheckedIOException e) {
            return fail(stdout, stderr, "EIO", e.getCause().getMessage(), 1);
        } catch (IllegalArgumentException e) {
            return fail(stdout, stderr, "EINVAL", e.getMessage(), 2);
        }
    }

    private int fail(PrintWriter stdout, PrintWriter stderr, String errno, String message, int code) {
        if (json) {
            stdout.println(StudyJson.error(errno, message));
            stdout.flush();
        } else {
            stderr.println("gtramp study: " + errno + ": " + message);
            stderr.flush();
        }
        return code;
    }

    private StudyOptions options() {
        if (quick && full) {
            throw new IllegalArgumentException("--quick and --full exclude each other");
        }
        if (json && csv) {
            throw new IllegalArgumentException("--json and --csv exclude each other: both print to stdout");
        }
        List<BpfTrampKind> ks = kinds == null ? List.of(BpfTrampKind.FENTRY) : kinds.stream().map(Kinds::parse).distinct().toList();
        StudyOptions.CallSettings calls = noCalls ? null
                : quick ? StudyOptions.CallSettings.QUICK : full ? StudyOptions.CallSettings.FULL : StudyOptions.CallSettings.DEFAULT;
        int r = repeat != null ? repeat : quick ? 1 : full ? 5 : 3;
        if (r < 1) {
            throw new IllegalArgumentException("--repeat " + r + " must be at least 1");
        }
        List<String> sz = sizes != null ? sizes : quick ? List.of("100", "1000", "all") : StudyOptions.DEFAULT_SIZES;
        return new StudyOptions(designs, sz, ks, match, deny, synthetic, r, seed, calls, costModel, !noPublished,
                rowBudget != null ? rowBudget : full ? 0 : quick ? 5 : StudyOptions.DEFAULT_ROW_BUDGET);
    }

    /** Creates {@code --out}, or fails naming it, before anything is measured. */
    private void prepareOut() {
        try {
            Files.createDirectories(out);
            Path probe = Files.createTempFile(out, ".write-test", "");
            Files.delete(probe);
        } catch (IOException e) {
            throw new KernelException(dev.gtramp.kernel.Errno.EACCES, "--out " + out + " is not a writable directory ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    /** Writes the rows so far, so an interrupted study keeps them. */
    private void writePartial(StudyResult r) {
        try {
            StudyJson.write(r, out.resolve("study.json"));
            StudyCsv.write(r, out.resolve("study.csv"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes every file of the finished study. */
    private void writeFiles(StudyResult r) {
        try {
            StudyJson.write(r, out.resolve("study.json"));
            StudyCsv.write(r, out.resolve("study.csv"));
            StudyPlots.write(r, out);
            StudyHtml.write(r, out.resolve("report.html"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The command as a user would type it again: {@code gtramp} and the arguments picocli saw (from
     * the subcommand on), each quoted for a POSIX shell where it needs to be.
     */
    static String commandLine(List<String> args) {
        StringBuilder b = new StringBuilder("gtramp");
        for (String a : args) {
            b.append(' ').append(a.matches("[A-Za-z0-9_./,=:@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }

    /** The design names a {@link StudyDesign} registry lists, for tests. */
    static List<String> designNames() {
        return StudyDesigns.load().names();
    }
}
