package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfProgBody;
import dev.gtramp.kernel.bpf.BpfProgStats;
import dev.gtramp.kernel.fault.FaultSpec;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad attaches fail with the errno the kernel returns and a message naming the culprit, and leave
 * nothing behind; programs cannot read beyond what the verifier recorded; the recursion guard skips
 * a program re-entered on its CPU and counts the miss.
 */
class AttachErrorsTest extends SelftestKernel {
    private BpfProg prog(String name, BpfAttachType type, int args, boolean ret, BpfProgBody body) {
        BpfProg.Builder b = BpfProg.builder(kernel, name, type).readsArgs(args).body(body);
        return (ret ? b.readsReturn() : b).load();
    }

    private BpfProg fentry(String name) {
        return prog(name, BpfAttachType.TRACE_FENTRY, 0, false, c -> 0);
    }

    private static void fails(Errno errno, String culprit, Executable attach) {
        KernelException e = assertThrows(KernelException.class, attach);
        assertEquals(errno, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(culprit), () -> "'" + e.getMessage() + "' does not name " + culprit);
    }

    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void badTargetsNameTheFunction(FtraceStrategy strategy) {
        Trampolines t = boot(strategy);
        BpfProg p = fentry("p");
        fails(Errno.ENOENT, "no_such_function", () -> t.attach(p, "no_such_function"));
        KernelFunction noSite = kernel.functions().stream().filter(f -> !f.isTraceable()).findFirst().orElseThrow();
        fails(Errno.EINVAL, noSite.name(), () -> t.attach(p, noSite));
        KernelFunction unsupported = kernel.functions().stream()
                .filter(f -> f.isTraceable() && !f.prototype().isBpfSupported()).findFirst().orElseThrow();
        fails(Errno.EINVAL, unsupported.prototype().unsupportedReason(), () -> t.attach(p, unsupported));
        // The verifier's record against the prototype.
        BpfProg threeArgs = prog("three", BpfAttachType.TRACE_FENTRY, 3, false, c -> 0);
        fails(Errno.EINVAL, "bpf_fentry_test1", () -> t.attach(threeArgs, "bpf_fentry_test1"));
        BpfProg retAfterOne = prog("ret1", BpfAttachType.TRACE_FEXIT, 1, true, c -> 0);
        fails(Errno.EINVAL, "bpf_fentry_test2", () -> t.attach(retAfterOne, "bpf_fentry_test2"));
        fails(Errno.EINVAL, "bpf_fentry_test_sinfo", () -> t.attach(retAfterOne, "bpf_fentry_test_sinfo"));
        fails(Errno.EINVAL, "bpf_fentry_test2",
                () -> t.attach(prog("mr", BpfAttachType.MODIFY_RETURN, 0, false, c -> 0), "bpf_fentry_test2"));
        // Attach types: a multi program through attach(), a single one through attachMulti().
        BpfProg multi = prog("m", BpfAttachType.TRACE_FENTRY_MULTI, 0, false, c -> 0);
        fails(Errno.EINVAL, "attachMulti", () -> t.attach(multi, "bpf_fentry_test1"));
        fails(Errno.EINVAL, "not a multi program", () -> t.attachMulti(p, "bpf_fentry_test1", null));
        // Multi links: duplicates, nothing, too many.
        fails(Errno.EINVAL, "bpf_fentry_test3", () -> t.attachMulti(multi, null, TracingMultiOpts.create()
                .names(List.of("bpf_fentry_test3", "bpf_fentry_test4", "bpf_fentry_test3"))));
        fails(Errno.EINVAL, "cnt is 0", () -> t.attachMulti(multi, null, TracingMultiOpts.create().names(List.of())));
        fails(Errno.E2BIG, "cnt", () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids(1, 2)
                .cnt(MultiAttach.MAX_MULTI_CNT + 1)));
        fails(Errno.EINVAL, noSite.name(), () -> t.attachMulti(multi, null, TracingMultiOpts.create()
                .names(List.of("bpf_fentry_test1", noSite.name()))));
        FentryFexitSelftestTest.assertNothingAttached(t);
        assertEquals(1, p.refCount(), "failed attaches hold no program reference");
        assertEquals(1, multi.refCount());
    }

    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void linkLimitSameProgramAndClosedLinks(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        List<BpfTracingLink> links = new ArrayList<>();
        links.add(t.attach(fentry("filler0"), "bpf_fentry_test1"));
        fails(Errno.EBUSY, "bpf_fentry_test1", () -> t.attach(links.get(0).prog(), "bpf_fentry_test1"));
        for (int i = 1; i < BpfTrampoline.BPF_MAX_TRAMP_LINKS; i++) {
            links.add(t.attach(fentry("filler" + i), "bpf_fentry_test1"));
        }
        fails(Errno.E2BIG, "bpf_fentry_test1", () -> t.attach(fentry("one_too_many"), "bpf_fentry_test1"));
        assertEquals(BpfTrampoline.BPF_MAX_TRAMP_LINKS,
                t.trampoline(kernel.function("bpf_fentry_test1")).orElseThrow().programOrder().size());
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(2, cpu.call("bpf_fentry_test1", 1));
        }
        for (BpfTracingLink l : links) {
            assertEquals(1, l.prog().stats().runs());
            l.close();
            l.close();
            fails(Errno.EBADF, "closed", l::prog);
        }
        BpfTracingMultiLink m = t.attachMulti(prog("m", BpfAttachType.TRACE_FEXIT_MULTI, 0, false, c -> 0),
                "bpf_fentry_test*", null);
        m.close();
        fails(Errno.EBADF, "closed", m::functions);
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    /** An attach that fails half-way, at any allocation or site check, leaves the function as it was. */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void faultsRollBackSingleAttach(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        BpfProg first = prog("first", BpfAttachType.TRACE_FEXIT, 1, true, c -> 0);
        BpfTracingLink keep = t.attach(first, "bpf_fentry_test1");
        BpfProg second = fentry("second");
        for (String point : List.of("alloc:bpf_tramp_image", "alloc:ftrace_hash", "ftrace:verify_code")) {
            long reached = kernel.faults().point(point).calls();
            kernel.faults().arm(point, FaultSpec.nth(1));
            try {
                t.attach(second, "bpf_fentry_test1").close();
                // This strategy's path does not pass the point (classic modify allocates no hash).
                assertEquals(reached, kernel.faults().point(point).calls(), point);
            } catch (KernelException expected) {
                assertEquals(1, kernel.faults().point(point).failures(), point);
            }
            kernel.faults().disarmAll();
            assertEquals(List.of("fexit:first"),
                    t.trampoline(kernel.function("bpf_fentry_test1")).orElseThrow().programOrder(), point);
            try (Cpu cpu = kernel.bindCpu(0)) {
                assertEquals(2, cpu.call("bpf_fentry_test1", 1), point);
            }
            assertEquals(1, second.refCount(), point);
        }
        keep.close();
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void contextAccessIsBoundByTheVerifierRecord(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        fails(Errno.EINVAL, "bpf_multi_func", () -> BpfProg.builder(kernel, "m", BpfAttachType.TRACE_FENTRY_MULTI)
                .readsArgs(1).body(c -> 0).load());
        fails(Errno.EINVAL, "fentry", () -> BpfProg.builder(kernel, "r", BpfAttachType.TRACE_FENTRY)
                .readsReturn().body(c -> 0).load());
        long[] seen = new long[4];
        BpfProg overreach = prog("overreach", BpfAttachType.TRACE_FENTRY, 1, false, c -> c.arg(1));
        BpfProg helpers = prog("helpers", BpfAttachType.TRACE_FEXIT_MULTI, 0, false, c -> {
            long[] v = new long[1];
            seen[0] = c.getFuncArg(1, v) == 0 ? v[0] : -1;
            seen[1] = c.getFuncArg(2, v);
            seen[2] = c.getFuncArgCnt();
            seen[3] = c.getFuncRet(v) == 0 ? v[0] : -1;
            return 0;
        });
        try (BpfTracingMultiLink m = t.attachMulti(helpers, "bpf_fentry_test2", null);
             Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(5, cpu.call("bpf_fentry_test2", 2, 3));
            assertEquals(List.of(3L, (long) -Errno.EINVAL.code(), 2L, 5L),
                    List.of(seen[0], seen[1], seen[2], seen[3]));
            try (BpfTracingLink l = t.attach(overreach, "bpf_fentry_test2")) {
                fails(Errno.EACCES, "overreach", () -> cpu.call("bpf_fentry_test2", 2, 3));
            }
        }
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    /** {@code __bpf_prog_enter_recur}: a program whose body calls its own target runs once; the inner run is a miss. */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void recursionGuardCountsMisses(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        KernelFunction target = kernel.function("bpf_fentry_test1");
        BpfProg recurse = prog("recurse", BpfAttachType.TRACE_FENTRY, 1, false,
                c -> c.intArg(0) < 3 ? c.cpu().call(target, c.intArg(0) + 1) : 0);
        try (BpfTracingLink l = t.attach(recurse, target); Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(2, cpu.call(target, 1));
            assertEquals(new BpfProgStats(1, 1), recurse.stats());
            assertEquals(5, cpu.call(target, 4));
            assertEquals(new BpfProgStats(2, 1), recurse.stats());
        }
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    /**
     * A tracing multi link that fails at any step (each allocation, each site check, the n-th of
     * each, until the attach passes) leaves every trampoline, site and direct entry as it was.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void faultsRollBackMultiAttach(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        BpfTracingLink a = t.attach(fentry("on_test1"), "bpf_fentry_test1");
        BpfTracingLink b = t.attach(prog("on_test2", BpfAttachType.TRACE_FEXIT, 0, false, c -> 0), "bpf_fentry_test2");
        long[] runs = new long[1];
        BpfProg multi = prog("multi", BpfAttachType.TRACE_FEXIT_MULTI, 0, false, c -> ++runs[0]);
        String before = state(t);
        int failures = 0;
        for (String point : List.of("alloc:bpf_trampoline", "alloc:bpf_tramp_image", "alloc:ftrace_hash",
                "ftrace:verify_code")) {
            for (int n = 1; ; n++) {
                kernel.faults().arm(point, FaultSpec.nth(n));
                BpfTracingMultiLink m;
                try {
                    m = t.attachMulti(multi, "bpf_fentry_test*", null);
                } catch (KernelException e) {
                    kernel.faults().disarmAll();
                    failures++;
                    assertTrue(t.drainRetiredImages(10), point + " #" + n);
                    assertEquals(before, state(t), point + " #" + n + ": " + e.getMessage());
                    assertEquals(1, multi.refCount(), point + " #" + n);
                    continue;
                }
                kernel.faults().disarmAll();
                m.close();
                break;
            }
        }
        assertTrue(failures >= 4, "every point failed an attach at least once: " + failures);
        assertEquals(0, runs[0], "no failed attach ever ran the multi program");
        a.close();
        b.close();
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    /** Trampolines, their program orders, sites and ftrace's direct entries, and what calls return. */
    private String state(Trampolines t) {
        StringBuilder sb = new StringBuilder();
        sb.append(t.trampolineCount()).append(" trampolines, ").append(t.ftrace().directFunctionCount())
                .append(" direct, ").append(t.ftrace().enabledRecords().size()).append(" records; ")
                .append(kernel.allocator().snapshot().usage("bpf_tramp_image").liveObjects()).append(" images\n");
        for (int i = 1; i <= 10; i++) {
            KernelFunction f = kernel.function("bpf_fentry_test" + i);
            sb.append(f.name()).append(' ').append(t.trampoline(f).map(TrampolineInfo::programOrder).orElse(null))
                    .append(' ').append(f.site().read()).append('\n');
        }
        try (Cpu cpu = kernel.bindCpu(0)) {
            sb.append("test_run ").append(dev.gtramp.kernel.BpfTestRun.fentryFexit(cpu));
        }
        return sb.toString();
    }
}
