package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.MemorySnapshot;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Kernel.close()} right after a detach frees the retired trampoline image, whose teardown
 * crosses RCU domains: an fexit image (it calls the origin function) goes
 * {@code call_rcu_tasks} → {@code percpu_ref_kill} → {@code call_rcu} (the switch to atomic mode) →
 * release → {@code call_rcu_tasks} → {@code bpf_tramp_image_free}; an fentry image goes
 * {@code call_rcu} → {@code call_rcu_tasks} → free. Closing one domain before the other has run its
 * callbacks would lose the rest of the chain ("call_rcu after the domain was closed") and leak the image.
 */
class KernelCloseDrainsImagesTest extends SelftestKernel {

    /** Callback threads (the default) and manual callbacks, where only close can run what is left. */
    static Stream<Arguments> strategiesAndCallbackModes() {
        return Stream.of(FtraceStrategy.values())
                .flatMap(s -> Stream.of(Arguments.of(s, false), Arguments.of(s, true)));
    }

    /**
     * With callback threads the leak depended on whether the tasks-RCU callback queued its
     * {@code call_rcu} before {@code rcu} was closed, so each case runs a few kernels.
     */
    @ParameterizedTest
    @MethodSource("strategiesAndCallbackModes")
    void closeRightAfterAnFexitDetachFreesTheImage(FtraceStrategy strategy, boolean manualCallbacks) {
        for (int i = 0; i < 5; i++) {
            closeRightAfterDetach(strategy, manualCallbacks, BpfAttachType.TRACE_FEXIT);
        }
    }

    @ParameterizedTest
    @MethodSource("strategiesAndCallbackModes")
    void closeRightAfterAnFentryDetachFreesTheImage(FtraceStrategy strategy, boolean manualCallbacks) {
        for (int i = 0; i < 5; i++) {
            closeRightAfterDetach(strategy, manualCallbacks, BpfAttachType.TRACE_FENTRY);
        }
    }

    private void closeRightAfterDetach(FtraceStrategy strategy, boolean manualCallbacks, BpfAttachType type) {
        kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withManualRcuCallbacks(manualCallbacks));
        Trampolines t = Trampolines.create(kernel, strategy);
        BpfProg.Builder b = BpfProg.builder(kernel, "close_test", type).readsArgs(1).body(c -> 0);
        BpfProg prog = (type == BpfAttachType.TRACE_FEXIT ? b.readsReturn() : b).load();
        BpfTracingLink link = t.attach(prog, "bpf_fentry_test1");
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
        }
        link.close();
        prog.close();
        kernel.close();

        MemorySnapshot after = kernel.allocator().snapshot();
        assertEquals(0, after.usage("bpf_tramp_image").liveObjects(), () -> "image leaked: " + after);
        assertEquals(0, after.usage("bpf_trampoline").liveObjects(), () -> "trampoline leaked: " + after);
        assertEquals(0, t.imagesRetiring(), "images still retiring after close");
        List<KernelLog.Entry> errors = kernel.log().entries(e -> e.level() == KernelLog.Level.ERR);
        assertTrue(errors.isEmpty(), () -> "kernel log errors: " + errors);
        assertEquals(0, kernel.allocator().violations(), () -> "KASAN: " + kernel.allocator().reports());
        kernel = null;
    }
}
