package dev.gtramp.study;

import dev.gtramp.kernel.bpf.BpfTrampKind;

import java.nio.file.Path;
import java.util.List;

/**
 * What one study runs.
 *
 * @param designs    design names, empty for every registered design
 * @param sizes      the sweep: numbers of functions, or {@code all}
 * @param kinds      the program kinds attached, one empty program each
 * @param match      the selection's glob ({@code fentry:vmlinux:<match>}), null for every function
 * @param deny       globs left out of the selection
 * @param synthetic  functions of a synthetic image to run on instead of Linux 6.18, or 0
 * @param repeat     measured cycles per row, after one warm-up
 * @param seed       the seed of the function sample and of a synthetic image
 * @param calls      the per-call measurement's settings, or null to skip it
 * @param costModel  the cost table file, or null for the committed one
 * @param published  whether to run the published scenarios and set their projections beside the numbers
 * @param rowBudgetSeconds the most model time one row may take: a row whose one cycle is predicted
 *                   to take longer is skipped (and reported), and a row gets fewer runs than
 *                   {@code repeat} when they would not fit; 0 for no budget
 */
public record StudyOptions(List<String> designs, List<String> sizes, List<BpfTrampKind> kinds, String match,
                           List<String> deny, int synthetic, int repeat, long seed, CallSettings calls,
                           Path costModel, boolean published, double rowBudgetSeconds) {

    /** The default sweep: 100, 1,000, 10,000 and every attachable function. */
    public static final List<String> DEFAULT_SIZES = List.of("100", "1000", "10000", "all");

    public StudyOptions {
        designs = List.copyOf(designs);
        sizes = List.copyOf(sizes);
        kinds = List.copyOf(kinds);
        deny = List.copyOf(deny);
        if (repeat < 1) {
            throw new IllegalArgumentException("repeat must be at least 1, not " + repeat);
        }
    }

    /** The default row budget, seconds of model time. */
    public static final double DEFAULT_ROW_BUDGET = 20;

    /** Every design, the default sweep, fentry, 3 runs, the default per-call settings and row budget. */
    public static StudyOptions defaults() {
        return new StudyOptions(List.of(), DEFAULT_SIZES, List.of(BpfTrampKind.FENTRY), null, List.of(), 0, 3, 1,
                CallSettings.DEFAULT, null, true, DEFAULT_ROW_BUDGET);
    }

    /**
     * JMH settings of the per-call measurement.
     *
     * @param forks      JMH forks per case (0 runs in the study's JVM)
     * @param warmups    warm-up iterations
     * @param iterations measured iterations
     * @param millis     milliseconds per iteration
     */
    public record CallSettings(int forks, int warmups, int iterations, int millis) {
        /** The default: one fork per case, 1 warm-up and 3 measured iterations of 200 ms. */
        public static final CallSettings DEFAULT = new CallSettings(1, 1, 3, 200);
        /** {@code --quick}: in the study's JVM, 1 warm-up and 2 measured iterations of 100 ms. */
        public static final CallSettings QUICK = new CallSettings(0, 1, 2, 100);
        /** {@code --full}: 5 forks, 5 warm-up and 5 measured iterations of 1 s. */
        public static final CallSettings FULL = new CallSettings(5, 5, 5, 1000);

        @Override
        public String toString() {
            return "JMH " + (forks == 0 ? "in the study's JVM (no fork)" : forks + " fork(s) per case") + ", " + warmups
                    + " warm-up and " + iterations + " measured iteration(s) of " + millis + " ms, mode avgt, 1 thread";
        }
    }
}
