package dev.gtramp.study.calls;

import java.util.Optional;

/**
 * The kernel's {@code bench_trigger} numbers the per-call costs are set beside: the one table of them.
 *
 * <p>Source: Menglong Dong, "bpf: tracing multi-link support", v2
 * ({@code 20250703121521.1874196-1-dongml2@chinatelecom.cn}, 2025-07-03), the cover letter's
 * {@code tools/testing/selftests/bpf/benchs/bench_trigger} results, in M calls/s on one CPU (the
 * reference's §1.10, quoted in {@code bench/README.md}): {@code trig-<case>} for each constant's
 * {@link #benchCase()}. Throughput, so the ratio of a case to {@code fentry} is
 * {@code mcps / 107.1}, the same direction as {@link dev.gtramp.study.StudyResult.CallCost#ratio()}
 * ({@code fentry ns / case ns}).
 */
public enum BenchTriggerV2 {
    /** {@code trig-fentry}: one fentry program on its per-function trampoline. */
    FENTRY("fentry", 107.1),
    /** {@code trig-fentry-multi}: one fentry.multi link on the one function, through {@code bpf_global_caller}. */
    FENTRY_MULTI("fentry-multi", 99.1),
    /** {@code trig-fentry-multi-all}: the same call with the link on every attachable function. */
    FENTRY_MULTI_ALL("fentry-multi-all", 97.9),
    /** {@code trig-fexit}. */
    FEXIT("fexit", 56.6),
    /** {@code trig-fexit-multi}. */
    FEXIT_MULTI("fexit-multi", 55.4),
    /** {@code trig-fmodret}. */
    FMODRET("fmodret", 59.5),
    /** {@code trig-fmodret-multi}. */
    FMODRET_MULTI("fmodret-multi", 56.6),
    /** {@code trig-kernel-count}: the attach point called with nothing attached. */
    KERNEL_COUNT("kernel-count", 313.4);

    private final String benchCase;
    private final double mcps;

    BenchTriggerV2(String benchCase, double mcps) {
        this.benchCase = benchCase;
        this.mcps = mcps;
    }

    /** The case's name in {@code bench_trigger} ({@code trig-<name>}). */
    public String benchCase() {
        return benchCase;
    }

    /** Millions of calls per second. */
    public double mcps() {
        return mcps;
    }

    /** Throughput relative to {@link #FENTRY}: {@code mcps / 107.1}. */
    public double ratio() {
        return mcps / FENTRY.mcps;
    }

    /**
     * The {@code bench_trigger} case matching one of the study's per-call cases, if it has one.
     *
     * <ul>
     *   <li>{@code nop} / {@code kernel-count}: {@link #KERNEL_COUNT};</li>
     *   <li>a design served by per-function trampolines (classic, single-ops, tracing-multi: a call
     *       goes through the function's own image whatever the link): {@link #FENTRY}, {@link #FEXIT},
     *       {@link #FMODRET} with one function attached, none with many (bench_trigger has no
     *       such case);</li>
     *   <li>a design served by the global trampoline (global-hash, global-padding):
     *       {@link #FENTRY_MULTI}, {@link #FEXIT_MULTI}, {@link #FMODRET_MULTI} with one function,
     *       {@link #FENTRY_MULTI_ALL} for fentry with many, none for fexit and fmod_ret with many.</li>
     * </ul>
     *
     * @param global whether the design's multi links go to {@code bpf_global_caller}
     * @param kind   {@code fentry}, {@code fexit}, {@code fmod_ret} or {@code kernel-count}
     * @param many   whether more than one function is attached
     */
    public static Optional<BenchTriggerV2> forCase(boolean global, String kind, boolean many) {
        BenchTriggerV2 c = switch (kind) {
            case StudyCallBenchmark.KERNEL_COUNT -> KERNEL_COUNT;
            case "fentry" -> many ? (global ? FENTRY_MULTI_ALL : null) : (global ? FENTRY_MULTI : FENTRY);
            case "fexit" -> many ? null : (global ? FEXIT_MULTI : FEXIT);
            case "fmod_ret" -> many ? null : (global ? FMODRET_MULTI : FMODRET);
            default -> throw new IllegalArgumentException("no bench_trigger case for kind " + kind);
        };
        return Optional.ofNullable(c);
    }
}
