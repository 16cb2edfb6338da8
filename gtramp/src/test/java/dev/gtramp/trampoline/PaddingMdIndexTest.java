package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.KernelImage;
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
     * Padding belongs to an address, not to a name: {@code __x64_sys_getegid16} shares its address
     * with {@code __do_sys_getegid16} and {@code __ia32_sys_getegid16}, which come first in the image
     * and have no {@code __pfx_} label of their own, while its own label marks the 16 bytes before
     * it. The md index goes into those bytes; the function does not fall back to a trampoline.
     */
    @Test
    void aliasUsesThePaddingOfItsAddress() throws Exception {
        Trampolines t = boot(TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        long[] runs = {0};
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> ++runs[0]).load();
        KernelFunction f = kernel.function("__x64_sys_getegid16");
        assertEquals("__do_sys_getegid16", f.site().function().name(), "the site's first name is the unlabelled alias");
        try (BpfTracingMultiLink link = t.attachMulti(p, null, TracingMultiOpts.create().names(List.of(f.name())))) {
            assertEquals(List.of(), link.fallbacks());
            assertEquals(PaddingInsn.PADDING_BYTES, f.site().paddingBytes());
            assertTrue(PaddingInsn.isMovEax(f.site().padding()), PaddingInsn.toString(f.site().padding()));
            try (Cpu cpu = kernel.bindCpu(0)) {
                cpu.callWith(f, new long[f.argWords()]);
            }
            assertEquals(1, runs[0]);
        }
        p.close();
        FentryFexitSelftestTest.assertNothingAttached(t);
    }

    /**
     * A function with too few bytes of padding for {@code mov $index, %eax} (the Linux image has
     * none, so a synthetic image with one) cannot hold the index: it falls back to its trampoline,
     * and the link says why.
     */
    @Test
    void functionWithoutPaddingFallsBack() throws Exception {
        kernel = Kernel.boot(KernelImage.synthetic(16, 1, 1));
        Trampolines t = Trampolines.create(kernel, TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        long[] runs = {0};
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> ++runs[0]).load();
        KernelFunction bare = kernel.functions().get(0);
        KernelFunction padded = kernel.functions().stream().skip(1)
                .filter(f -> f.prototype().argRegs() <= 6).findFirst().orElseThrow();
        assertTrue(bare.site().paddingBytes() < PaddingInsn.PADDING_BYTES);
        try (BpfTracingMultiLink link = t.attachMulti(p, null,
                TracingMultiOpts.create().names(List.of(padded.name(), bare.name())))) {
            assertEquals(List.of(bare.name()), link.fallbacks().stream().map(MultiLinkFallback::function).toList());
            assertTrue(link.fallbacks().get(0).reason().contains("padding"), link.fallbacks().get(0).reason());
            assertTrue(t.kfuncMd(bare).orElseThrow().servedByTrampoline());
            assertTrue(PaddingInsn.isMovEax(padded.site().padding()));
            try (Cpu cpu = kernel.bindCpu(0)) {
                cpu.callWith(bare, new long[bare.argWords()]);
                cpu.callWith(padded, new long[padded.argWords()]);
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
