package dev.gtramp.kernel.mm;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.fault.FaultPoint;
import dev.gtramp.kernel.fault.FaultSpec;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Allocation fault points ({@code failslab}): each type's "alloc:" point fails allocations and leaves no trace. */
class AllocationFaultTest {
    private final FaultInjector faults = new FaultInjector();
    private final Allocator allocator = new Allocator(new KernelLog(false), faults, AllocatorConfig.defaults());

    /** Tries to allocate {@code n} objects of {@code type}; '.' allocated, 'X' failed with ENOMEM naming the type. */
    private String allocPattern(String type, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            TestObject o = new TestObject(type, 8);
            try {
                allocator.alloc(o);
                sb.append('.');
            } catch (KernelException e) {
                assertEquals(Errno.ENOMEM, e.errno());
                assertEquals("ENOMEM: fault injected at alloc:" + type + ": cannot allocate " + type + " (8 bytes)", e.getMessage());
                assertFalse(o.isLive());
                sb.append('X');
            }
        }
        return sb.toString();
    }

    private long live(String type) {
        return allocator.snapshot().usage(type).liveObjects();
    }

    @Test
    void everyAllocationPassesItsTypesPoint() {
        FaultPoint p = faults.point("alloc:kfunc_md");
        p.arm(FaultSpec.never());
        allocPattern("kfunc_md", 3);
        allocPattern("bpf_trampoline", 2);
        assertEquals(3, p.calls());
        assertEquals(0, faults.point("alloc:bpf_trampoline").calls(), "disarmed points count nothing");
        assertSame(p, faults.point("alloc:kfunc_md"));
    }

    @Test
    void nthFailsOneAllocationAndLeavesNoAccounting() {
        faults.point("alloc:kfunc_md").arm(FaultSpec.nth(3));
        assertEquals(".." + "X" + "..", allocPattern("kfunc_md", 5));
        assertEquals(new MemorySnapshot.TypeUsage(4, 32, 4, 0), allocator.snapshot().usage("kfunc_md"));
    }

    @Test
    void aFailedObjectCanBeAllocatedOnceTheFaultIsGone() {
        FaultPoint p = faults.point("alloc:kfunc_md");
        p.arm(FaultSpec.always());
        TestObject o = new TestObject("kfunc_md", 64);
        assertThrows(KernelException.class, () -> allocator.alloc(o));
        assertEquals(MemorySnapshot.TypeUsage.NONE, allocator.snapshot().usage("kfunc_md"));
        p.disarm();
        assertSame(o, allocator.alloc(o));
        assertEquals(1, live("kfunc_md"));
        assertEquals(0, allocator.violations());
    }

    @Test
    void alwaysFailsEveryAllocationOfThatTypeOnly() {
        faults.point("alloc:kfunc_md").arm(FaultSpec.always());
        assertEquals("XXXX", allocPattern("kfunc_md", 4));
        assertEquals("..", allocPattern("bpf_trampoline", 2));
        assertEquals(0, live("kfunc_md"));
        assertEquals(2, live("bpf_trampoline"));
    }

    @Test
    void probabilityFromASeedFailsTheSameAllocationsEachRun() {
        faults.point("alloc:kfunc_md").arm(FaultSpec.probability(0.25, 1234));
        String first = allocPattern("kfunc_md", 200);
        assertTrue(first.contains("X") && first.contains("."), first);
        long failed = first.chars().filter(c -> c == 'X').count();
        assertEquals(200 - failed, live("kfunc_md"));

        faults.point("alloc:kfunc_md").arm(FaultSpec.probability(0.25, 1234));
        assertEquals(first, allocPattern("kfunc_md", 200));
        assertEquals(2 * (200 - failed), live("kfunc_md"));
    }

    @Test
    void timesLimitsTheFailedAllocations() {
        faults.point("alloc:kfunc_md").arm(FaultSpec.always().withTimes(2));
        assertEquals("XX...", allocPattern("kfunc_md", 5));
        assertEquals(3, live("kfunc_md"));
    }

    @Test
    void aGlobFailsEveryAllocationKindIncludingKindsFirstAllocatedLater() {
        allocPattern("kfunc_md", 1); // creates alloc:kfunc_md before arming
        assertEquals(1, faults.arm("alloc:*", FaultSpec.always()));
        assertEquals("XX", allocPattern("kfunc_md", 2));
        assertEquals("XXX", allocPattern("bpf_tramp_image", 3), "a type first allocated after arming");
        assertEquals(1, live("kfunc_md"));
        assertEquals(0, live("bpf_tramp_image"));

        assertEquals(2, faults.disarm("alloc:*"));
        assertEquals("..", allocPattern("bpf_tramp_image", 2));
        assertEquals("..", allocPattern("ftrace_hash", 2));
        assertEquals(5, allocator.snapshot().liveObjects());
        assertEquals(0, allocator.violations());
    }
}
