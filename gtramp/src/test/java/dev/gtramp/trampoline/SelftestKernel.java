package dev.gtramp.trampoline;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;

import java.util.stream.Stream;

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

    /** Boots the kernel and creates its trampolines with {@code config}. */
    Trampolines boot(TrampolinesConfig config) {
        kernel = Kernel.boot(KernelImage.linux618());
        return Trampolines.create(kernel, config);
    }

    /** Every design a tracing multi link can have: per-function trampolines both ways, and the global trampoline. */
    static Stream<TrampolinesConfig> allConfigs() {
        return Stream.concat(Stream.of(TrampolinesConfig.defaults().withFtraceStrategy(FtraceStrategy.CLASSIC),
                TrampolinesConfig.defaults()), globalConfigs());
    }

    /**
     * The global trampoline with each md lookup ({@code RcuLongHashTable}, {@code NonBlockingHashMapLong},
     * padding) and, with the hash table, each free protocol.
     */
    static Stream<TrampolinesConfig> globalConfigs() {
        TrampolinesConfig hash = TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH);
        return Stream.of(hash, hash.withMdTable(KfuncMdTableKind.NON_BLOCKING_HASH_MAP),
                hash.withFreeProtocol(KfuncMdFreeProtocol.KILL_THEN_TASKS_RCU),
                TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
    }
}
