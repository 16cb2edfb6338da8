package dev.gtramp.kernel;

import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The real bodies of the BPF test functions, checked through {@code bpf_prog_test_run_tracing}
 * and against the values the kernel selftests expect.
 */
class BpfTestRunTest {
    private final Kernel kernel = Kernel.boot(KernelImage.linux618());

    @Test
    void fentryFexitRunSucceedsWithTheRealBodies() {
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
            assertEquals(0, kernel.memory().liveBlocks(), "the run frees what it allocated");
        }
    }

    @Test
    void fentryFexitRunFailsWhenABodyMisbehaves() {
        kernel.function("bpf_fentry_test6").site().write(frame -> frame.callOrigin() + 1);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(-Errno.EFAULT.code(), BpfTestRun.fentryFexit(cpu));
        }
    }

    @Test
    void modifyReturnRunMatchesTheSelftestWithoutPrograms() {
        // modify_return.c expects side_effect 2 and ret 33 when no fmod_ret program changes anything.
        try (Cpu cpu = kernel.bindCpu(0)) {
            int retval = BpfTestRun.modifyReturn(cpu);
            assertEquals(2, retval >>> 16);
            assertEquals(33, retval & 0xffff);
        }
    }

    @Test
    void modifyReturnRunSeesAnOverrideThatSkipsTheBody() {
        // What an fmod_ret program returning -EINVAL does: the body (and its side effect) is skipped.
        kernel.function("bpf_modify_return_test").site().write(frame -> -Errno.EINVAL.code());
        try (Cpu cpu = kernel.bindCpu(0)) {
            int retval = BpfTestRun.modifyReturn(cpu);
            assertEquals(1, retval >>> 16, "only bpf_modify_return_test2 ran its body");
            assertEquals((-22 + 29) & 0xffff, retval & 0xffff);
        }
    }

    @Test
    void intResultsWrapAsCDoes() {
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(Integer.MIN_VALUE, cpu.call(kernel.function("bpf_fentry_test1"), Integer.MAX_VALUE));
            assertEquals(Integer.MIN_VALUE, cpu.call(kernel.function("bpf_fentry_shadow_test"), Integer.MAX_VALUE));
            assertEquals(0, cpu.call(kernel.function("bpf_fentry_test1"), 0xffffffffL), "(int)0xffffffff + 1");
            assertEquals(Integer.MIN_VALUE, cpu.call(kernel.function("bpf_fentry_test2"), Integer.MAX_VALUE, 1));
            long b = kernel.memory().alloc("int", 4);
            kernel.memory().store32(b, 0);
            // *b becomes 1: INT_MAX + 1 wraps.
            assertEquals(Integer.MIN_VALUE, cpu.call(kernel.function("bpf_modify_return_test"), Integer.MAX_VALUE, b));
            kernel.memory().store32(b, -2);
            assertEquals(-2, cpu.call(kernel.function("bpf_modify_return_test"), -1, b), "-1 + (-1)");
            kernel.memory().free(b);
            assertEquals(-1, cpu.call(kernel.function("bpf_modify_return_test_tp"), 0xffffffffL));
        }
    }

    @Test
    void argumentsReachTheBodiesWithTheirCTypes() {
        AtomicInteger seen = new AtomicInteger();
        KernelFunction f = kernel.function("bpf_fentry_test3");
        try (Cpu cpu = kernel.bindCpu(0)) {
            // char a = 0xff is -1 on x86-64: -1 + 2 + 3 = 4.
            assertEquals(4, cpu.call(f, 0xff, 2, 3));
            f.site().write(frame -> {
                seen.set(frame.intArg(1));
                return frame.callOrigin();
            });
            assertEquals(15, cpu.call(f, 4, 5, 6));
            assertEquals(5, seen.get());
            long b = kernel.memory().alloc("u32", 4);
            kernel.memory().store32(b, 0xfffffffe);
            assertEquals(0xfffffffeL, cpu.call(kernel.function("bpf_fentry_test9"), b), "u32 is zero-extended");
            kernel.memory().free(b);
        }
    }
}
