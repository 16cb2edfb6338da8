package dev.gtramp.study;

import java.util.List;
import java.util.Map;

/**
 * Everything one {@code gtramp study} run measured, counted and projected: what the report, the
 * JSON and the CSV are written from. Immutable records; serialised as they are by Gson, so the
 * JSON's field names are these components' names.
 *
 * @param environment where and how the study ran
 * @param rows        one per design, size and kind, in the order run
 * @param skipped     the rows left out because they would not fit the row budget
 * @param calls       the per-call costs, empty if they were not measured
 * @param callSettings the JMH settings the per-call costs ran with, or null
 * @param published   the projection beside each published number
 * @param costModel   the cost table used
 */
public record StudyResult(Environment environment, List<Row> rows, List<Skipped> skipped, List<CallCost> calls, String callSettings,
                          List<PublishedComparison> published, CostModel.Table costModel) {

    /**
     * @param command   the exact command line
     * @param image     the kernel image's name
     * @param functions traceable functions the selection offered, aliases counted once
     * @param machine   OS, architecture and processors
     * @param jvm       the JVM's name and version, and its maximum heap
     * @param started   ISO-8601 start time
     * @param seconds   the study's wall time
     * @param repeat    measured runs per row, after one warm-up
     * @param seed      the seed of the function sample
     */
    public record Environment(String command, String image, int functions, String machine, String jvm, String started,
                              double seconds, int repeat, long seed) {
    }

    /**
     * One design attaching one kind of program to {@code n} functions.
     *
     * @param design    the design's name
     * @param kind      the program kind: fentry, fexit or fmod_ret
     * @param size      the size as asked ({@code 100}, {@code all})
     * @param n         the functions asked for
     * @param attached  the functions attached (fewer than n when the kind's attach checks refuse some)
     * @param programs  programs loaded
     * @param links     links created
     * @param load      the load phase
     * @param attach    the attach phase
     * @param detach    the detach phase (closing the links and the programs, and every deferred free)
     * @param retained  kernel memory held after the attach, over what the kernel held before the load
     * @param projected the kernel time the cost table projects for the counted events
     */
    public record Row(String design, String kind, String size, int n, int attached, int programs, int links,
                      Phase load, Phase attach, Phase detach, Memory retained, Projection projected) {
    }

    /**
     * A row the study did not run.
     *
     * @param design           the design's name
     * @param kind             the program kind
     * @param size             the size as asked
     * @param n                the functions it would attach
     * @param predictedSeconds the model time one cycle was predicted to take
     * @param reason           why it was left out
     */
    public record Skipped(String design, String kind, String size, int n, double predictedSeconds, String reason) {
    }

    /**
     * @param millis the model's wall time of the phase over the measured runs
     * @param events every counted event of the phase, identical in every run
     */
    public record Phase(Stats millis, Map<String, Long> events) {
    }

    /** Median, minimum and maximum of {@code runs} values. */
    public record Stats(double median, double min, double max, int runs) {
    }

    /**
     * @param bytes          live bytes in the allocator
     * @param objects        live objects in the allocator
     * @param bytesPerFunction {@code bytes / attached}
     * @param byType         live objects and bytes by type: {@code [objects, bytes]}
     */
    public record Memory(long bytes, long objects, double bytesPerFunction, Map<String, long[]> byType) {
    }

    /**
     * @param loadSeconds   projected kernel time of the load phase
     * @param attachSeconds projected kernel time of the attach phase
     * @param detachSeconds projected kernel time of the detach phase
     * @param attachTerms   the attach phase's time by event, seconds (what dominates)
     * @param detachTerms   the detach phase's time by event, seconds
     */
    public record Projection(double loadSeconds, double attachSeconds, double detachSeconds,
                             Map<String, Double> attachTerms, Map<String, Double> detachTerms) {
    }

    /**
     * One per-call measurement (bench_trigger's case).
     *
     * @param design    the design, or {@code nop} for a call through a NOP site
     * @param kind      fentry, fexit, fmod_ret, or kernel-count
     * @param attached  functions attached while measuring: 1, or the study's largest size
     * @param nsPerCall the model's mean time per call
     * @param error     JMH's error of the mean (99.9%)
     * @param ratio     throughput relative to per-function fentry with one function attached in the same run
     *                  ({@code fentry ns / this ns})
     * @param kernelRatio the same ratio in the kernel's bench_trigger (v2 numbers), or null where
     *                  bench_trigger has no such case
     */
    public record CallCost(String design, String kind, int attached, double nsPerCall, double error, double ratio,
                           Double kernelRatio) {
    }

    /**
     * A published number beside the projection of the same scenario.
     *
     * @param id        the published entry's id in the cost table
     * @param what      the scenario, as published
     * @param design    the design it ran on
     * @param functions functions in the published run
     * @param modelFunctions functions in the model's run (the projection is scaled by functions / modelFunctions)
     * @param publishedSeconds the published time
     * @param projectedSeconds the projection
     * @param ratio     projected / published
     * @param role      {@code fitted} (used to fit a free parameter) or {@code held-out} (a prediction)
     * @param includes  what the projection includes
     * @param source    where the number was published
     */
    public record PublishedComparison(String id, String what, String design, int functions, int modelFunctions,
                                      double publishedSeconds, double projectedSeconds, double ratio, String role,
                                      String includes, String source) {
    }
}
