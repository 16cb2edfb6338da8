package dev.gtramp.trampoline;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;

/** The kernel a ported selftest runs on: booted fresh from the Linux 6.18 image, closed after the test. */
abstract class SelftestKernel {
    Kernel kernel;

    @AfterEach
    void closeKernel() {
        if (kernel != null) {
            kernel.close();
        }
    }

    /** Boots the kernel and creates its trampolines with {@code strategy}. */
    Trampolines boot(FtraceStrategy strategy) {
        kernel = Kernel.boot(KernelImage.linux618());
        return Trampolines.create(kernel, strategy);
    }
}
