package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MultiLinkMode#GLOBAL_PADDING}: each traced function's padding holds {@code mov $slot, %eax}
 * with a slot of its own, the md array grows past its first page, NOPs come back on detach, and a
 * freed md's slot is reused.
 */
class PaddingMdIndexTest extends SelftestKernel {
    @Test
    void slotsInThePaddingGrowAndAreReused() throws Exception {
        Trampolines t = boot(TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        long[] runs = {0};
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> ++runs[0]).load();
        List<String> names = kernel.image().match("tcp_*").stream().map(f -> f.name())
                .filter(n -> AttachChecks.refusal(t, p, kernel.function(n)) == null && t.global().fallbackReason(kernel.function(n)) == null)
                .limit(3L * PaddingMdIndex.INITIAL_SLOTS).toList();
        assertEquals(3 * PaddingMdIndex.INITIAL_SLOTS, names.size());
        Set<Integer> slots = new HashSet<>();
        try (BpfTracingMultiLink link = t.attachMulti(p, null, TracingMultiOpts.create().names(names))) {
            for (String n : names) {
                long insn = kernel.function(n).site().padding();
                assertTrue(PaddingInsn.isMovEax(insn), n + ": " + PaddingInsn.toString(insn));
                slots.add(PaddingInsn.imm32(insn));
            }
            assertEquals(names.size(), slots.size(), "a slot per function");
            KernelFunction f = kernel.function(names.get(names.size() - 1));
            try (Cpu cpu = kernel.bindCpu(0)) {
                cpu.callWith(f, new long[f.argWords()]);
            }
            assertEquals(1, runs[0]);
        }
        for (String n : names) {
            assertEquals(PaddingInsn.NOP_WORD, kernel.function(n).site().padding(), n);
        }
        assertTrue(t.drainRetiredImages(10));
        // The freed mds' slots are handed out again.
        try (BpfTracingMultiLink link = t.attachMulti(p, names.get(0), null)) {
            assertTrue(slots.contains(PaddingInsn.imm32(kernel.function(names.get(0)).site().padding())));
        }
        p.close();
        FentryFexitSelftestTest.assertNothingAttached(t);
        assertEquals(1, kernel.allocator().snapshot().usage("kfunc_md_array").liveObjects(),
                "one array left: the grown ones were freed after their grace periods");
    }

    /**
     * A function whose address has no padding (an alias without a {@code __pfx_} label in front)
     * cannot hold the index: it falls back to its trampoline, and the link says why.
     */
    @Test
    void functionWithoutPaddingFallsBack() throws Exception {
        Trampolines t = boot(TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        long[] runs = {0};
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> ++runs[0]).load();
        KernelFunction bare = kernel.functions().stream()
                .filter(f -> f.isTraceable() && f.site().paddingBytes() < PaddingInsn.PADDING_BYTES
                        && AttachChecks.refusal(t, p, f) == null && f.prototype().argRegs() <= 6)
                .findFirst().orElseThrow();
        try (BpfTracingMultiLink link = t.attachMulti(p, null,
                TracingMultiOpts.create().names(List.of("bpf_fentry_test1", bare.name())))) {
            assertEquals(List.of(bare.name()), link.fallbacks().stream().map(MultiLinkFallback::function).toList());
            assertTrue(link.fallbacks().get(0).reason().contains("padding"), link.fallbacks().get(0).reason());
            assertTrue(t.kfuncMd(bare).orElseThrow().servedByTrampoline());
            try (Cpu cpu = kernel.bindCpu(0)) {
                cpu.callWith(bare, new long[bare.argWords()]);
                cpu.call("bpf_fentry_test1", 1);
            }
            assertEquals(2, runs[0]);
        }
        p.close();
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    @Test
    void releasedMdsLeaveTheArray() {
        Trampolines t = boot(TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        List<String> names = kernel.image().match("tcp_*").stream().map(f -> f.name())
                .filter(n -> AttachChecks.refusal(t, p, kernel.function(n)) == null && t.global().fallbackReason(kernel.function(n)) == null)
                .limit(2L * PaddingMdIndex.INITIAL_SLOTS).toList();
        PaddingMdIndex index = (PaddingMdIndex) t.global().mds().index();
        try (BpfTracingMultiLink link = t.attachMulti(p, null, TracingMultiOpts.create().names(names))) {
            assertEquals(names.size(), index.slotsHoldingMds());
        }
        assertTrue(t.drainRetiredImages(10));
        kernel.rcu().barrier();
        kernel.tasksRcu().barrier();
        assertEquals(0, index.slotsHoldingMds(), "freed mds are still reachable from the md array");
        p.close();
    }
}
