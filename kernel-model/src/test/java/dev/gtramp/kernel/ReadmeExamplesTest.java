package dev.gtramp.kernel;

import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.percpu.PercpuRef;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's embedding examples, as written there, with their claimed results checked. */
class ReadmeExamplesTest {

    @Test
    void embedding() {
        Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withCpus(2));
        KernelFunction test1 = kernel.function("bpf_fentry_test1");
        try (Cpu cpu = kernel.bindCpu(0)) {
            long ret = cpu.call(test1, 1);
            assertEquals(2, ret);
            test1.site().write(frame -> {
                long origin = frame.callOrigin();
                return origin * 10;
            });
            ret = cpu.call(test1, 1);
            assertEquals(20, ret);
        }
        kernel.close();
    }

    @Test
    void percpuRef() {
        AtomicInteger released = new AtomicInteger();
        Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withRcu(RcuFlavor.GENERAL));
        PercpuRef ref = kernel.percpuRefs().init(r -> released.incrementAndGet());
        try (Cpu cpu = kernel.bindCpu(0)) {
            ref.get(cpu);
            ref.kill();
            kernel.rcu().barrier();
            assertEquals(0, released.get());
            ref.put(cpu);
            assertEquals(1, released.get());
        }
        kernel.close();
    }
}
