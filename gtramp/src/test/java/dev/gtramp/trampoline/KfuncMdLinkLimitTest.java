package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The global designs bound a function's {@code kfunc_md} at {@code BPF_MAX_TRAMP_LINKS} programs,
 * as the per-function designs bound its trampoline: the 39th program is E2BIG naming the function
 * and the limit, and the multi link that brought it is rolled back on every function (the
 * functions before it get no md, the full md is as it was).
 */
class KfuncMdLinkLimitTest extends SelftestKernel {
    private static final String FULL = "bpf_fentry_test3";

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void thirtyNinthProgramOnAnMdIsE2big(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        int max = BpfTrampoline.BPF_MAX_TRAMP_LINKS;
        long[] runs = {0};
        List<BpfTracingMultiLink> fillers = new ArrayList<>();
        for (int i = 0; i < max; i++) {
            // Every kind counts towards the limit, as on a trampoline.
            BpfAttachType type = i % 2 == 0 ? BpfAttachType.TRACE_FENTRY_MULTI : BpfAttachType.TRACE_FEXIT_MULTI;
            BpfProg p = BpfProg.builder(kernel, "filler" + i, type).body(c -> ++runs[0]).load();
            fillers.add(t.attachMulti(p, FULL, null));
        }
        KernelFunction full = kernel.function(FULL);
        KfuncMdInfo before = t.kfuncMd(full).orElseThrow();
        assertEquals(max, before.programs().size());
        int mds = t.kfuncMdCount();
        long liveMds = kernel.allocator().snapshot().usage("kfunc_md").liveObjects();
        long liveNodes = kernel.allocator().snapshot().usage("kfunc_md_tramp_prog").liveObjects();

        long[] extraRuns = {0};
        BpfProg extra = BpfProg.builder(kernel, "extra", BpfAttachType.TRACE_FENTRY_MULTI)
                .body(c -> ++extraRuns[0]).load();
        KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(extra, null,
                TracingMultiOpts.create().names(List.of("bpf_fentry_test1", "bpf_fentry_test2", FULL))));
        assertEquals(Errno.E2BIG, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(FULL), e.getMessage());
        assertTrue(e.getMessage().contains(Integer.toString(max)), e.getMessage());

        assertTrue(t.drainRetiredImages(10));
        assertEquals(before, t.kfuncMd(full).orElseThrow(), "the full md is unchanged");
        assertTrue(t.kfuncMd(kernel.function("bpf_fentry_test1")).isEmpty(), "test1's md was rolled back");
        assertTrue(t.kfuncMd(kernel.function("bpf_fentry_test2")).isEmpty(), "test2's md was rolled back");
        assertEquals(mds, t.kfuncMdCount());
        assertEquals(liveMds, kernel.allocator().snapshot().usage("kfunc_md").liveObjects());
        assertEquals(liveNodes, kernel.allocator().snapshot().usage("kfunc_md_tramp_prog").liveObjects());
        assertEquals(0, t.trampolineCount());
        assertEquals(1, extra.refCount(), "the failed attach holds no program reference");
        try (Cpu cpu = kernel.bindCpu(0)) {
            cpu.call("bpf_fentry_test1", 1);
            cpu.call("bpf_fentry_test2", 2, 3);
            cpu.call(FULL, 4, 5, 6);
        }
        assertEquals(0, extraRuns[0]);
        assertEquals(max, runs[0], "each filler ran once on the full function");

        // Room again once one filler goes.
        fillers.remove(0).close();
        try (BpfTracingMultiLink l = t.attachMulti(extra, FULL, null)) {
            assertEquals(max, t.kfuncMd(full).orElseThrow().programs().size());
        }
        for (BpfTracingMultiLink l : fillers) {
            l.close();
        }
        assertNothingAttached(t);
    }
}
