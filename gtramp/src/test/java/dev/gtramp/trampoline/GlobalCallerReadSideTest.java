package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * {@code bpf_global_caller} leaves its read-side section when the lookup raises a KASAN report (a
 * use after free of the md or of the index under it): the report propagates to the caller, and on
 * the general RCU flavor, where a held section is an epoch slot left set, the next grace period
 * still ends.
 */
class GlobalCallerReadSideTest {

    @ParameterizedTest
    @EnumSource(KfuncMdFreeProtocol.class)
    void aReportFromTheLookupLeavesTheReadSide(KfuncMdFreeProtocol protocol) {
        RuntimeException report = new IllegalStateException("BUG: KASAN: use-after-free in kfunc_md_get_rcu");
        KfuncMdIndex throwing = new KfuncMdIndex() {
            @Override
            public KfuncMd find(Frame frame) {
                throw report;
            }

            @Override
            public KfuncMd lookup(KernelFunction f) {
                return null;
            }

            @Override
            public void insert(KfuncMd md) {
            }

            @Override
            public void remove(KfuncMd md) {
            }

            @Override
            public int size() {
                return 0;
            }
        };
        try (Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withRcu(RcuFlavor.GENERAL))) {
            KernelFunction f = kernel.function("bpf_fentry_test1");
            f.site().write(new GlobalCaller(throwing, protocol));
            try (Cpu cpu = kernel.bindCpu(0)) {
                assertSame(report, assertThrows(IllegalStateException.class, () -> cpu.call(f, 1)));
                assertFalse(cpu.rcu().inReadSection(), "the caller's read-side section leaked");
                assertTimeoutPreemptively(Duration.ofSeconds(20), () -> kernel.rcu().synchronize(),
                        "a grace period waits for the leaked section");
            }
            f.site().write(null);
        }
    }
}
