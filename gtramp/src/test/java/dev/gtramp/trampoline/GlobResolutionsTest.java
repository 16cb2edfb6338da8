package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A multi link's pattern is resolved against the image once per kernel and then served from the cache. */
class GlobResolutionsTest extends SelftestKernel {
    @Test
    void repeatedPatternsScanTheImageOnce() throws Exception {
        Trampolines t = boot(TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH));
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        for (int i = 0; i < 3; i++) {
            try (BpfTracingMultiLink l = t.attachMulti(p, "bpf_fentry_test*", null)) {
                assertEquals(11, l.size(), l.functions().toString());
            }
        }
        assertEquals(new GlobCacheStats(2, 1, 1), t.globCacheStats());
        assertSame(t.globResolutions().resolve("bpf_fentry_test*"), t.globResolutions().resolve("bpf_fentry_test*"));
        for (int i = 0; i < 2; i++) {
            KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(p, "no_such_function_*", null));
            assertEquals(Errno.EINVAL, e.errno());
        }
        assertEquals(2, t.globCacheStats().misses(), "an empty resolution is cached too");
        p.close();
        FentryFexitSelftestTest.assertNothingAttached(t);
    }
}
