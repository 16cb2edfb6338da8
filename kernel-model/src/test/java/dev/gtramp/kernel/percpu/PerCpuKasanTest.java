package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.AllocatorConfig;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.kernel.mm.KasanReport;
import dev.gtramp.kernel.mm.MemorySnapshot;
import dev.gtramp.kernel.rcu.RcuReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KASAN for per-CPU memory: stale handles, double frees and the quarantine of freed slots. */
class PerCpuKasanTest {
    private Kernel kernel = Kernel.boot(KernelImage.synthetic(8, 1), KernelConfig.defaults());

    @AfterEach
    void shutdown() {
        kernel.close();
    }

    private List<KasanReport> reports() {
        return kernel.allocator().reports();
    }

    @Test
    void thisCpuAddThroughAFreedHandleIsAUseAfterFreeAndLeavesTheNextOwnerAlone() {
        PerCpuArena arena = kernel.perCpu();
        PerCpuLong stale = arena.allocLong("test counter");
        stale.free();
        PerCpuLong owner = arena.allocLong();
        owner.add(0, 3);
        KasanException e = assertThrows(KasanException.class, () -> stale.add(0, 5));
        assertEquals(KasanReport.Kind.USE_AFTER_FREE, e.report().kind());
        assertEquals("BUG: KASAN: use-after-free in this_cpu_add of test counter: percpu object freed by thread "
                + Thread.currentThread().getName(), e.report().title());
        assertEquals(List.of(e.report()), reports(), "recorded in the allocator's reports");
        assertEquals(3, owner.sum(), "the new owner is untouched");
        assertEquals(1, kernel.allocator().violations());
        assertThrows(KasanException.class, () -> stale.get(0));
        assertThrows(KasanException.class, stale::sum);
        assertThrows(KasanException.class, stale::zero);
        assertEquals(4, kernel.allocator().violations());
        assertEquals(1, kernel.log().entries(x -> x.facility().equals("kasan")
                && x.message().startsWith("BUG: KASAN: use-after-free in per_cpu of test counter")).size());
    }

    @Test
    void aPutInFlightAcrossPercpuRefExitDoesNotReachTheNextRefsCounters() {
        PercpuRefs refs = kernel.percpuRefs();
        PercpuRef ref = refs.init("kfunc_md f", r -> { });
        PercpuRef[] next = new PercpuRef[1];
        try (Cpu cpu0 = kernel.bindCpu(0)) {
            ref.get(cpu0);
            // A put that has seen percpu mode when the ref is exited and a new ref takes its counters.
            ThisCpu late = new ThisCpu() {
                @Override
                public int id() {
                    ref.exit();
                    next[0] = refs.init(r -> { });
                    return cpu0.id();
                }

                @Override
                public RcuReader rcu() {
                    return cpu0.rcu();
                }
            };
            KasanException e = assertThrows(KasanException.class, () -> ref.put(late));
            assertEquals(KasanReport.Kind.USE_AFTER_FREE, e.report().kind());
            assertTrue(e.report().title().startsWith("BUG: KASAN: use-after-free in this_cpu_add of percpu_ref of kfunc_md f: "),
                    e.getMessage());
        }
        assertEquals(1, next[0].countForDebug(), "the next ref keeps its initial reference");
    }

    @Test
    void freePercpuTwiceIsADoubleFree() {
        PerCpuLong v = kernel.perCpu().allocLong("test counter");
        v.free();
        KasanException e = assertThrows(KasanException.class, v::free);
        assertEquals(KasanReport.Kind.DOUBLE_FREE, e.report().kind());
        assertEquals("BUG: KASAN: double-free in free_percpu of test counter: percpu object freed by thread "
                + Thread.currentThread().getName(), e.report().title());
        assertEquals(List.of(e.report()), reports());
        assertEquals(1, kernel.perCpu().quarantinedVariables(), "the slot is quarantined once");
    }

    @Test
    void aFreedSlotIsNotHandedOutAgainUntilTheQuarantineHasCycled() {
        PerCpuArena arena = kernel.perCpu();
        PerCpuLong v = arena.allocLong();
        int slot = v.slot();
        v.free();
        assertNotEquals(slot, arena.allocLong().slot());
        // QUARANTINE_SLOTS - 1 more frees fill the quarantine; none of them hands the slot out.
        List<PerCpuLong> others = new ArrayList<>();
        for (int i = 0; i < PerCpuArena.QUARANTINE_SLOTS; i++) {
            others.add(arena.allocLong());
        }
        Set<Integer> handedOut = new HashSet<>();
        for (int i = 0; i < PerCpuArena.QUARANTINE_SLOTS - 1; i++) {
            others.get(i).free();
            handedOut.add(arena.allocLong().slot());
        }
        assertFalse(handedOut.contains(slot), "still quarantined");
        assertEquals(PerCpuArena.QUARANTINE_SLOTS, arena.quarantinedVariables());
        // One more free pushes the oldest, v's slot, out of the quarantine; it is reused zeroed.
        others.get(PerCpuArena.QUARANTINE_SLOTS - 1).free();
        PerCpuLong reused = arena.allocLong();
        assertEquals(slot, reused.slot());
        assertEquals(0, reused.sum());
        assertThrows(KasanException.class, () -> v.add(0, 1), "a stale handle is caught after reuse too");
        assertEquals(0, reused.sum());
    }

    @Test
    void liveVariablesShowInTheAllocatorsSnapshot() {
        MemorySnapshot before = kernel.allocator().snapshot();
        PerCpuLong v = kernel.perCpu().allocLong();
        MemorySnapshot.TypeUsage u = kernel.allocator().snapshot().usage(PerCpuLong.TYPE);
        assertEquals(before.usage(PerCpuLong.TYPE).liveObjects() + 1, u.liveObjects());
        assertEquals(1, kernel.allocator().snapshot().leaksSince(before).objects(PerCpuLong.TYPE));
        assertEquals(kernel.cpuCount() * (long) Long.BYTES, v.size(), "one long per CPU");
        v.free();
        assertTrue(kernel.allocator().snapshot().leaksSince(before).isEmpty());
    }

    @Test
    void withoutPanicAStaleAccessIsReportedAndDropped() {
        kernel.close();
        kernel = Kernel.boot(KernelImage.synthetic(8, 1),
                KernelConfig.defaults().withAllocator(AllocatorConfig.defaults().withPanicOnViolation(false)));
        PerCpuLong stale = kernel.perCpu().allocLong();
        stale.free();
        stale.add(0, 1);
        assertEquals(PerCpuLong.POISON, stale.get(0));
        assertEquals(PerCpuLong.POISON, stale.sum());
        stale.free();
        assertEquals(List.of(KasanReport.Kind.USE_AFTER_FREE, KasanReport.Kind.USE_AFTER_FREE,
                KasanReport.Kind.USE_AFTER_FREE, KasanReport.Kind.DOUBLE_FREE),
                reports().stream().map(KasanReport::kind).toList());
        assertEquals(1, kernel.perCpu().quarantinedVariables());
    }
}
