package dev.gtramp.kernel.mm;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.fault.FaultSpec;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A kernel's allocator: its memory, fault points and log are one kernel's own. */
class KernelAllocatorTest {
    @Test
    void aWorkloadLeaksNothingAndKernelsDoNotShare() {
        Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults());
        Kernel other = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults());
        assertNotSame(kernel.allocator(), other.allocator());
        assertNotSame(kernel.faults(), other.faults());
        assertEquals(AllocatorConfig.defaults(), kernel.config().allocator());

        MemorySnapshot before = kernel.allocator().snapshot();
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
            BpfTestRun.modifyReturn(cpu);
            long leaked = kernel.memory().alloc("struct bpf_fentry_test_t", 8);
            MemorySnapshot after = kernel.allocator().snapshot();
            assertEquals("leaked: struct bpf_fentry_test_t +1 objects (+8 bytes)", after.leaksSince(before).toString());
            kernel.memory().free(leaked);
            assertTrue(kernel.allocator().snapshot().leaksSince(before).isEmpty());
            assertEquals(2, kernel.allocator().snapshot().usage("struct bpf_fentry_test_t").allocs(), "one by the test run, one here");
        }
        assertEquals(0, other.allocator().snapshot().liveObjects());
    }

    @Test
    void theKernelsFaultsAndLogServeItsAllocator() {
        Kernel kernel = Kernel.boot(KernelImage.linux618(),
                KernelConfig.defaults().withCpus(1).withAllocator(AllocatorConfig.defaults().withPanicOnViolation(false)));
        assertEquals(1, kernel.cpuCount());
        assertFalse(kernel.config().allocator().panicOnViolation());
        kernel.faults().arm("alloc:*", FaultSpec.always());
        try (Cpu cpu = kernel.bindCpu(0)) {
            KernelException e = assertThrows(KernelException.class, () -> BpfTestRun.fentryFexit(cpu));
            assertEquals(Errno.ENOMEM, e.errno());
        }
        kernel.faults().disarmAll();
        long a = kernel.memory().alloc("int", 4);
        kernel.memory().free(a);
        kernel.memory().load32(a);
        assertEquals(1, kernel.log().entries(en -> en.facility().equals("kasan")
                && en.message().startsWith("BUG: KASAN: use-after-free in load32")).size());
        assertEquals(0, kernel.allocator().snapshot().liveObjects());
    }
}
