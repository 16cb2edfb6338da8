package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.fault.FaultPointStats;
import dev.gtramp.kernel.fault.FaultSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CyclicBarrier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A detach that fails (at the n-th hit of every fault point its path reaches, for n = 1, 2, ...
 * until it passes) leaves the link open and attached, exactly as it was, and a retry detaches it
 * without residue; a detach that passes leaves nothing of the link. Every design, multi and regular
 * links.
 */
class MultiLinkDetachFailureTest extends SelftestKernel {
    /** The functions {@link BpfTestRun} calls, each once per run. */
    private static final List<String> CALLED = List.of("bpf_fentry_test1", "bpf_fentry_test2", "bpf_fentry_test3",
            "bpf_fentry_test4", "bpf_fentry_test5", "bpf_fentry_test6", "bpf_fentry_test7", "bpf_fentry_test8",
            "bpf_fentry_test9", "bpf_fentry_test10", "bpf_modify_return_test", "bpf_modify_return_test2");

    /** A multi link's targets in every state a detach meets. */
    private static final List<String> SHARED = List.of(
            "bpf_fentry_test1",         // a regular fentry link: its trampoline keeps a program (global: a mix)
            "bpf_fentry_test2",         // a regular fexit link: an image with the origin call stays
            "bpf_fentry_test3",         // another multi link: its program stays (global: the md keeps a user)
            "bpf_fentry_test4", "bpf_fentry_test5", "bpf_fentry_test6",  // the link's alone: unregistered
            "bpf_modify_return_test2"); // seven argument registers: a fallback trampoline in the global designs

    /** A multi link alone on its functions. */
    private static final List<String> ALONE = List.of("bpf_fentry_test7", "bpf_fentry_test8", "bpf_fentry_test9",
            "bpf_fentry_test10");

    private long[] hits;

    private BpfProg counting(String name, BpfAttachType type) {
        return BpfProg.builder(kernel, name, type).body(c -> {
            hits[(int) c.getAttachCookie()]++;
            return 0;
        }).load();
    }

    private static BpfProg quiet(dev.gtramp.kernel.Kernel k, String name, BpfAttachType type) {
        return BpfProg.builder(k, name, type).body(c -> 0).load();
    }

    /** Regular links on test1 (fentry) and test2 (fexit), a multi link on test2 and test3. */
    private List<AutoCloseable> others(Trampolines t) {
        List<AutoCloseable> links = new ArrayList<>();
        links.add(t.attach(quiet(kernel, "regular_fentry", BpfAttachType.TRACE_FENTRY), "bpf_fentry_test1"));
        links.add(t.attach(quiet(kernel, "regular_fexit", BpfAttachType.TRACE_FEXIT), "bpf_fentry_test2"));
        links.add(t.attachMulti(quiet(kernel, "other_multi", BpfAttachType.TRACE_FENTRY_MULTI), null,
                TracingMultiOpts.create().names(List.of("bpf_fentry_test2", "bpf_fentry_test3"))));
        return links;
    }

    private static long[] cookies(int n) {
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            c[i] = i + 1;
        }
        return c;
    }

    /** An fexit multi link sharing its functions with regular links, another multi link and a fallback. */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void failedCloseOfSharedFexitMultiLinkKeepsItAttached(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        List<AutoCloseable> others = others(t);
        BpfProg p = counting("multi_fexit", BpfAttachType.TRACE_FEXIT_MULTI);
        Set<String> failed = sweep(t, p, SHARED, () -> t.attachMulti(p, null,
                TracingMultiOpts.create().names(SHARED).cookies(cookies(SHARED.size()))), BpfTracingMultiLink::isClosed,
                m -> {
                    assertEquals(SHARED, m.functions());
                    assertEquals(config.multiLinkMode().isGlobal() ? List.of("bpf_modify_return_test2") : List.of(),
                            m.fallbacks().stream().map(MultiLinkFallback::function).toList());
                });
        assertTrue(failed.containsAll(List.of("alloc:bpf_tramp_image", "ftrace:verify_code")),
                "points that failed a close: " + failed);
        for (AutoCloseable l : others) {
            l.close();
        }
        assertNothingAttached(t);
    }

    /** An fentry multi link alone on its functions: every function leaves ftrace (or the global caller). */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void failedCloseOfLoneFentryMultiLinkKeepsItAttached(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        BpfProg p = counting("multi_fentry", BpfAttachType.TRACE_FENTRY_MULTI);
        Set<String> failed = sweep(t, p, ALONE, () -> t.attachMulti(p, null,
                TracingMultiOpts.create().names(ALONE).cookies(cookies(ALONE.size()))), BpfTracingMultiLink::isClosed,
                m -> assertEquals(ALONE, m.functions()));
        assertTrue(failed.contains("ftrace:verify_code"), "points that failed a close: " + failed);
        assertNothingAttached(t);
    }

    /**
     * Regular links: on a function whose trampoline keeps other programs (a new image), on one left
     * with only a multi link's program (global designs: handed back to the global caller), and alone
     * (unregistered).
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void failedCloseOfRegularLinkKeepsItAttached(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        List<AutoCloseable> others = others(t);
        Set<String> failed = new TreeSet<>();
        for (String f : List.of("bpf_fentry_test1", "bpf_fentry_test3", "bpf_fentry_test4")) {
            BpfProg p = counting("regular_" + f, BpfAttachType.TRACE_FEXIT);
            failed.addAll(sweep(t, p, List.of(f), () -> t.attach(p, kernel.function(f), 1),
                    BpfTracingLink::isClosed, l -> assertEquals(f, l.function())));
            p.close();
        }
        // Classic ops allocate no hash to modify or unregister one function.
        assertTrue(failed.containsAll(config.ftraceStrategy() == FtraceStrategy.CLASSIC
                ? List.of("alloc:bpf_tramp_image", "ftrace:verify_code")
                : List.of("alloc:bpf_tramp_image", "alloc:ftrace_hash", "ftrace:verify_code")),
                "points that failed a close: " + failed);
        for (AutoCloseable l : others) {
            l.close();
        }
        assertNothingAttached(t);
    }

    /**
     * Two threads closing one link at once detach it once: one program reference is dropped. When
     * the first detach fails, the other close waits for it and then detaches the link itself: one
     * of the two reports the failure, and the link is closed when both return.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void concurrentClosesDetachOnce(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        hits = new long[ALONE.size() + 1];
        BpfProg p = counting("multi", BpfAttachType.TRACE_FENTRY_MULTI);
        for (int round = 0; round < 20; round++) {
            BpfTracingMultiLink m = t.attachMulti(p, null, TracingMultiOpts.create().names(ALONE)
                    .cookies(cookies(ALONE.size())));
            boolean failOnce = round % 2 == 1;
            if (failOnce) {
                kernel.faults().point("ftrace:verify_code").arm(FaultSpec.nth(1));
            }
            CyclicBarrier start = new CyclicBarrier(2);
            List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread[] threads = new Thread[2];
            for (int i = 0; i < 2; i++) {
                threads[i] = new Thread(() -> {
                    try {
                        start.await();
                        m.close();
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                threads[i].start();
            }
            for (Thread th : threads) {
                th.join();
            }
            kernel.faults().disarmAll();
            String at = "round " + round + ": " + errors;
            if (failOnce) {
                assertEquals(1, errors.size(), at);
                assertEquals(Errno.EFAULT, ((KernelException) errors.get(0)).errno(), at);
            } else {
                assertTrue(errors.isEmpty(), at);
            }
            assertTrue(m.isClosed(), at);
            m.close();
            // The global designs' nodes hold their program until their grace periods have passed.
            for (int i = 0; i < 4; i++) {
                kernel.tasksRcu().barrier();
                kernel.rcu().barrier();
            }
            assertEquals(1, p.refCount(), at);
        }
        p.close();
        assertNothingAttached(t);
    }

    /**
     * For every fault point and n = 1, 2, ...: attaches a fresh link, fails the n-th hit of the point
     * in its close, and checks the outcome, until the close passes. Returns the points that failed a
     * close.
     */
    private <L extends AutoCloseable> Set<String> sweep(Trampolines t, BpfProg p, List<String> targets,
                                                         Supplier<L> attach, Predicate<L> isClosed,
                                                         Consumer<L> usable) throws Exception {
        hits = new long[targets.size() + 1];
        int refsWithout = p.refCount();
        // Attach and close once so that every point the close reaches exists (and ftrace's
        // direct_functions is an allocated table, as after any detach).
        attach.get().close();
        String without = state(t, targets);
        List<String> points = kernel.faults().points().stream().map(FaultPointStats::name).toList();
        Set<String> failed = new TreeSet<>();
        int failures = 0;
        for (String point : points) {
            for (int n = 1; ; n++) {
                L link = attach.get();
                String attached = state(t, targets);
                for (String f : targets) {
                    assertTrue(attached.contains(" " + f + "=1 "), () -> "runs once on " + f + ": " + attached);
                }
                int refsAttached = p.refCount();
                String at = p.name() + ", " + point + " #" + n;
                kernel.faults().point(point).arm(FaultSpec.nth(n));
                KernelException failure = null;
                try {
                    link.close();
                } catch (KernelException e) {
                    failure = e;
                } finally {
                    kernel.faults().disarmAll();
                }
                if (failure == null) {
                    assertTrue(isClosed.test(link), at);
                    assertEquals(without, state(t, targets), at + ": after the close that passed");
                    assertEquals(refsWithout, p.refCount(), at);
                    break;
                }
                failures++;
                failed.add(point);
                String why = at + ": " + failure.getMessage();
                assertTrue(failure.errno() == Errno.ENOMEM || failure.errno() == Errno.EFAULT, why);
                String culprit = point.startsWith("alloc:") ? point.substring("alloc:".length()) : null;
                assertTrue(culprit != null ? failure.getMessage().contains(culprit)
                        : CALLED.stream().anyMatch(failure.getMessage()::contains), why + " names no culprit");
                assertFalse(isClosed.test(link), why + ": a failed close leaves the link open");
                usable.accept(link);
                assertEquals(attached, state(t, targets), why);
                assertEquals(refsAttached, p.refCount(), why);
                assertEquals(0, kernel.allocator().violations(), () -> why + ": KASAN: " + kernel.allocator().reports());
                link.close();
                assertTrue(isClosed.test(link), why + ": the retry closes the link");
                link.close();
                assertEquals(without, state(t, targets), why + ": after the retry");
                assertEquals(refsWithout, p.refCount(), why);
            }
        }
        assertTrue(failures > 0, "no close failed");
        return failed;
    }

    /**
     * After the grace periods: trampolines, mds, direct entries, sites and live objects; each
     * function's md, trampoline, direct target and site; what the test runs return; and how often
     * the swept program ran on each of its targets in one run of each (counted, then cleared).
     */
    private String state(Trampolines t, List<String> targets) {
        assertTrue(t.drainRetiredImages(10), "retiring: " + t.imagesRetiring() + " images, " + t.kfuncMdsRetiring()
                + " mds");
        kernel.tasksRcu().barrier();
        kernel.rcu().barrier();
        kernel.tasksRcu().barrier();
        StringBuilder sb = new StringBuilder();
        sb.append(t.trampolineCount()).append(" trampolines, ").append(t.kfuncMdCount()).append(" mds, ")
                .append(t.ftrace().directFunctionCount()).append(" direct, ")
                .append(t.ftrace().enabledRecords().size()).append(" records, ")
                .append(t.ftrace().opsList().size()).append(" ops; live:");
        for (String type : List.of("bpf_trampoline", "bpf_tramp_image", "kfunc_md", "kfunc_md_tramp_prog",
                "ftrace_hash")) {
            sb.append(' ').append(type).append('=').append(kernel.allocator().snapshot().usage(type).liveObjects());
        }
        sb.append('\n');
        for (String name : CALLED) {
            KernelFunction f = kernel.function(name);
            sb.append(name).append(' ').append(t.kfuncMd(f).orElse(null)).append(' ')
                    .append(t.trampoline(f).orElse(null)).append(" direct ")
                    .append(t.ftrace().findRecDirect(f.ip())).append(" site ").append(f.site().read()).append('\n');
        }
        java.util.Arrays.fill(hits, 0);
        try (Cpu cpu = kernel.bindCpu(0)) {
            sb.append("test_run ").append(BpfTestRun.fentryFexit(cpu)).append(' ').append(BpfTestRun.modifyReturn(cpu));
        }
        sb.append(" runs ");
        for (int i = 0; i < targets.size(); i++) {
            sb.append(targets.get(i)).append('=').append(hits[i + 1]).append(' ');
        }
        java.util.Arrays.fill(hits, 0);
        sb.append("violations ").append(kernel.allocator().violations());
        return sb.toString();
    }
}
