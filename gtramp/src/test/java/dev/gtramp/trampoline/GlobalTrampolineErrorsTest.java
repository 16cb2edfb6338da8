package dev.gtramp.trampoline;

import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.fault.FaultSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures of the global trampoline's attach: every fault at every step rolls the whole link back,
 * the culprit is named, and the fallback for an IPMODIFY user.
 */
class GlobalTrampolineErrorsTest extends SelftestKernel {
    /** The targets: every state a function can be in when a multi link arrives. */
    private static final List<String> TARGETS = List.of(
            "bpf_fentry_test1",        // a regular fentry link: the multi program joins its trampoline (mix)
            "bpf_fentry_test2",        // another multi link's md: users + 1
            "bpf_fentry_test3",        // the same
            "bpf_fentry_test4", "bpf_fentry_test5", "bpf_fentry_test6", "bpf_fentry_test7",
            "bpf_fentry_test8",        // nothing yet: new mds for the global caller
            "bpf_modify_return_test",  // nothing yet
            "bpf_modify_return_test2"); // seven argument registers: a fallback trampoline

    private static BpfProg prog(dev.gtramp.kernel.Kernel k, String name, BpfAttachType type, long[] runs) {
        return BpfProg.builder(k, name, type).body(c -> ++runs[0]).load();
    }

    /**
     * A global multi link that fails at the n-th hit of each allocation and check (md, program node,
     * trampoline, image, ftrace hash, the md table's growth, the call-site check), for n = 1, 2, ...
     * until it passes, leaves every md, trampoline, site and direct entry as it was, keeps no
     * reference to its program, and never ran it.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void faultsRollBackGlobalMultiAttach(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        long[] regularRuns = {0};
        long[] otherRuns = {0};
        long[] runs = {0};
        BpfTracingLink regular = t.attach(prog(kernel, "regular", BpfAttachType.TRACE_FENTRY, regularRuns),
                "bpf_fentry_test1");
        BpfTracingMultiLink other = t.attachMulti(prog(kernel, "other", BpfAttachType.TRACE_FEXIT_MULTI, otherRuns),
                null, TracingMultiOpts.create().names(List.of("bpf_fentry_test2", "bpf_fentry_test3")));
        BpfProg multi = prog(kernel, "multi", BpfAttachType.TRACE_FEXIT_MULTI, runs);
        String before = state(t);
        int failures = 0;
        List<String> fired = new ArrayList<>();
        for (String point : List.of("alloc:kfunc_md", "alloc:kfunc_md_tramp_prog", "alloc:kfunc_md_array",
                "alloc:bpf_trampoline", "alloc:bpf_tramp_image", "alloc:ftrace_hash", "ftrace:verify_code")) {
            for (int n = 1; ; n++) {
                kernel.faults().arm(point, FaultSpec.nth(n));
                BpfTracingMultiLink m;
                try {
                    m = t.attachMulti(multi, null, TracingMultiOpts.create().names(TARGETS));
                } catch (KernelException e) {
                    kernel.faults().disarmAll();
                    failures++;
                    if (n == 1) {
                        fired.add(point);
                    }
                    assertTrue(t.drainRetiredImages(10), point + " #" + n);
                    assertEquals(before, state(t), point + " #" + n + ": " + e.getMessage());
                    assertEquals(1, multi.refCount(), point + " #" + n);
                    continue;
                }
                kernel.faults().disarmAll();
                assertEquals(List.of("bpf_modify_return_test2"),
                        m.fallbacks().stream().map(MultiLinkFallback::function).toList());
                m.close();
                assertTrue(t.drainRetiredImages(10));
                assertEquals(before, state(t), "after detaching the link that passed " + point);
                break;
            }
        }
        assertTrue(fired.containsAll(List.of("alloc:kfunc_md", "alloc:kfunc_md_tramp_prog", "alloc:bpf_trampoline",
                "alloc:bpf_tramp_image", "alloc:ftrace_hash", "ftrace:verify_code")), "points that failed an attach: " + fired);
        assertTrue(failures >= 20, "failed attaches: " + failures);
        assertEquals(0, runs[0], "no failed attach ever ran the multi program");
        regular.close();
        other.close();
        assertNothingAttached(t);
    }

    /**
     * A multi link on a function the global caller already serves and on a new one, whose ftrace
     * update fails, while another CPU calls the first function back to back: the failed link's
     * program never runs. Its md is live throughout, so the program must not be linked into it
     * before the update that fails ({@link KfuncMds#prepareLink}, committed after the publish).
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void failedAttachNeverRunsItsProgramInLiveMds(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        KernelFunction served = kernel.function("bpf_fentry_test2");
        long[] otherRuns = {0};
        long[] runs = {0};
        BpfTracingMultiLink other = t.attachMulti(prog(kernel, "other", BpfAttachType.TRACE_FENTRY_MULTI, otherRuns),
                null, TracingMultiOpts.create().names(List.of(served.name())));
        BpfProg failing = prog(kernel, "failing", BpfAttachType.TRACE_FENTRY_MULTI, runs);
        AtomicBoolean done = new AtomicBoolean();
        CountDownLatch calling = new CountDownLatch(1);
        long[] args = new long[served.argWords()];
        AtomicReference<Throwable> callerFailure = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try (Cpu cpu = kernel.bindCpu(1)) {
                calling.countDown();
                while (!done.get()) {
                    cpu.callWith(served, args);
                }
            } catch (Throwable e) {
                callerFailure.set(e);
            }
        }, "caller");
        caller.start();
        int attempts = 300;
        try {
            assertTrue(calling.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < attempts; i++) {
                kernel.faults().arm("ftrace:verify_code", FaultSpec.always());
                try {
                    KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(failing, null,
                            TracingMultiOpts.create().names(List.of(served.name(), "bpf_fentry_test8"))));
                    assertEquals(Errno.EFAULT, e.errno());
                } finally {
                    kernel.faults().disarmAll();
                }
            }
        } finally {
            done.set(true);
            caller.join();
        }
        assertEquals(null, callerFailure.get(), "the calls of " + served.name());
        assertTrue(otherRuns[0] > 0, "the served function was called");
        assertEquals(0, runs[0], "calls of " + served.name() + " during " + attempts
                + " failed attaches ran the failed link's program");
        assertEquals(1, failing.refCount());
        other.close();
        assertTrue(t.drainRetiredImages(10));
        assertNothingAttached(t);
    }

    /**
     * The kfunc_mds, trampolines (program orders), sites and direct entries of the targets, live
     * objects, and what calls return and run.
     */
    private String state(Trampolines t) {
        StringBuilder sb = new StringBuilder();
        sb.append(t.trampolineCount()).append(" trampolines, ").append(t.kfuncMdCount()).append(" mds, ")
                .append(t.ftrace().directFunctionCount()).append(" direct, ")
                .append(t.ftrace().enabledRecords().size()).append(" records; live:");
        for (String type : List.of("bpf_trampoline", "bpf_tramp_image", "kfunc_md", "kfunc_md_tramp_prog")) {
            sb.append(' ').append(type).append('=').append(kernel.allocator().snapshot().usage(type).liveObjects());
        }
        sb.append('\n');
        for (String name : TARGETS) {
            KernelFunction f = kernel.function(name);
            sb.append(name).append(' ').append(t.kfuncMd(f).orElse(null)).append(' ')
                    .append(t.trampoline(f).map(TrampolineInfo::programOrder).orElse(null)).append(' ')
                    .append(f.site().read()).append('\n');
        }
        try (Cpu cpu = kernel.bindCpu(0)) {
            sb.append("test_run ").append(BpfTestRun.fentryFexit(cpu)).append(' ').append(BpfTestRun.modifyReturn(cpu));
        }
        sb.append(" violations ").append(kernel.allocator().violations());
        return sb.toString();
    }

    /**
     * A function with an IPMODIFY user (a livepatch-like ops) falls back to its trampoline, and the
     * link names the reason; the other function is served by the global caller.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void ipmodifyUserFallsBack(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        KernelFunction patched = kernel.function("bpf_fentry_test2");
        FtraceOps livepatch = FtraceOps.callback("livepatch", (ip, parent, op, regs) -> { },
                FtraceOps.SAVE_REGS | FtraceOps.IPMODIFY);
        t.ftrace().setFilterIp(livepatch, patched.ip(), false, false);
        t.ftrace().registerFtraceFunction(livepatch);
        long[] runs = {0};
        BpfProg p = prog(kernel, "count", BpfAttachType.TRACE_FENTRY_MULTI, runs);
        try (BpfTracingMultiLink link = t.attachMulti(p, null,
                TracingMultiOpts.create().names(List.of("bpf_fentry_test1", "bpf_fentry_test2")))) {
            assertEquals(1, link.fallbacks().size());
            assertEquals("bpf_fentry_test2", link.fallbacks().get(0).function());
            assertTrue(link.fallbacks().get(0).reason().contains("IPMODIFY"), link.fallbacks().get(0).reason());
            assertTrue(t.kfuncMd(patched).orElseThrow().servedByTrampoline());
            try (Cpu cpu = kernel.bindCpu(0)) {
                assertEquals(2, cpu.call("bpf_fentry_test1", 1));
                assertEquals(5, cpu.call("bpf_fentry_test2", 2, 3));
            }
            assertEquals(2, runs[0]);
        }
        t.ftrace().unregisterFtraceFunction(livepatch);
        t.ftrace().freeFilter(livepatch);
        p.close();
        assertNothingAttached(t);
    }

    /**
     * The same program twice on one function's md is EEXIST naming the function; the functions the
     * failed link had already done are rolled back.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void sameProgramTwiceOnOneMd(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        long[] runs = {0};
        BpfProg p = prog(kernel, "twice", BpfAttachType.TRACE_FENTRY_MULTI, runs);
        BpfTracingMultiLink first = t.attachMulti(p, "bpf_fentry_test1", null);
        KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(p, null,
                TracingMultiOpts.create().names(List.of("bpf_fentry_test2", "bpf_fentry_test1"))));
        assertEquals(Errno.EEXIST, e.errno());
        assertTrue(e.getMessage().contains("bpf_fentry_test1"), e.getMessage());
        assertTrue(t.kfuncMd(kernel.function("bpf_fentry_test2")).isEmpty(), "test2's md was rolled back");
        assertEquals(1, t.kfuncMd(kernel.function("bpf_fentry_test1")).orElseThrow().users());
        // The rolled-back node of test2 drops its program reference when it is freed.
        assertTrue(t.drainRetiredImages(10));
        assertEquals(3, p.refCount(), "the loader's, the first link's and its kfunc_md node's");
        first.close();
        p.close();
        assertNothingAttached(t);
    }
}
