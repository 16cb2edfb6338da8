package dev.gtramp.ftrace;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The last {@code update_ftrace_direct_del} of a static direct ops unregisters it, and
 * {@code ftrace_shutdown} waits for no caller then (it synchronizes only for a {@code DYNAMIC}
 * ops): a CPU in {@code ftrace_ops_list_func} that loaded the ops' filter before the unregister
 * may still test an ip against it. The filter must be freed only after an RCU grace period, not at
 * once (as {@code ftrace_free_filter} would): a jcstress trial of two multi links detaching at once
 * while their function is called read it freed.
 */
class DirectDelFilterFreeTest {
    @Test
    void theLastDelFreesTheStaticOpsFilterAfterAGracePeriod() {
        // Manual RCU callbacks: nothing queued runs before the barrier.
        try (Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withManualRcuCallbacks(true))) {
            Ftrace ftrace = Ftrace.of(kernel);
            KernelFunction f = kernel.function("bpf_fentry_test1");
            FtraceOps direct = FtraceOps.staticDirect("direct_ops", null);
            FtraceHash h = ftrace.allocHash(1);
            h.add(f.ip(), frame -> frame.callOrigin() + 100);
            ftrace.updateFtraceDirectAdd(direct, h);
            FtraceHash filter = direct.funcHash.filter;
            assertNotNull(filter);
            ftrace.updateFtraceDirectDel(direct, h);
            assertNull(direct.funcHash.filter, "the unregistered ops keeps no filter");
            assertFalse(filter.isFreed(), "the filter a list walker may hold was freed without a grace period");
            kernel.rcu().barrier();
            assertTrue(filter.isFreed(), "the filter is freed after the grace period");
            assertEquals(0, kernel.allocator().violations());
            ftrace.freeHash(h);
        }
    }
}
