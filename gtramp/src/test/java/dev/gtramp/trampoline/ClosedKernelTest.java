package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.bpf.BpfArrayMap;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfHashMap;
import dev.gtramp.kernel.bpf.BpfPercpuArrayMap;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfRingBuf;
import dev.gtramp.kernel.mm.MemorySnapshot;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every operation that would change a closed kernel fails with ESHUTDOWN, names itself, and changes
 * nothing: no site patched, no md or trampoline created, no link detached halfway, no object
 * allocated or freed. Calls of traced functions on a CPU bound before the close still run.
 */
class ClosedKernelTest extends SelftestKernel {

    /** The state an operation must not change. */
    private record State(int trampolines, int directFunctions, int enabledRecords, int mds, String memory) {
        static State of(Trampolines t) {
            MemorySnapshot m = t.kernel().allocator().snapshot();
            return new State(t.trampolineCount(), t.ftrace().directFunctionCount(), t.ftrace().enabledRecords().size(),
                    t.kfuncMdCount(), m.toString());
        }
    }

    private static void assertShutdown(String what, Executable op) {
        KernelException e = assertThrows(KernelException.class, op, what);
        assertEquals(Errno.ESHUTDOWN, e.errno(), e::getMessage);
        assertTrue(e.getMessage().contains("is closed"), e::getMessage);
    }

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void attachingOnAClosedKernelFailsAndChangesNothing(TrampolinesConfig config) {
        Trampolines t = boot(config);
        BpfProg fentry = BpfProg.builder(kernel, "fentry", BpfAttachType.TRACE_FENTRY).body(c -> 0).load();
        BpfProg multi = BpfProg.builder(kernel, "multi", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        kernel.close();
        State before = State.of(t);
        int fentryRefs = fentry.refCount();

        assertShutdown("attach", () -> t.attach(fentry, "bpf_fentry_test1"));
        assertShutdown("attachMulti", () -> t.attachMulti(multi, "bpf_fentry_test*", null));
        assertShutdown("load", () -> BpfProg.builder(kernel, "late", BpfAttachType.TRACE_FENTRY).body(c -> 0).load());
        assertShutdown("prog close", fentry::close);
        assertShutdown("array map", () -> BpfArrayMap.create(kernel, "a", 4));
        assertShutdown("hash map", () -> BpfHashMap.create(kernel, "h", 4));
        assertShutdown("per-CPU array map", () -> BpfPercpuArrayMap.create(kernel, "p", 4));
        assertShutdown("ring buffer", () -> BpfRingBuf.create(kernel, "r", 4096));
        assertShutdown("bind cpu", () -> kernel.bindCpu(0));

        assertEquals(before, State.of(t));
        assertEquals(fentryRefs, fentry.refCount(), "the program's references");
        assertTrue(kernel.function("bpf_fentry_test1").site().isNop(), "bpf_fentry_test1's site was patched");
        assertNoErrors(kernel);
    }

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void linksOfAClosedKernelStayAttached(TrampolinesConfig config) {
        Trampolines t = boot(config);
        long[] runs = {0, 0};
        BpfProg fentry = BpfProg.builder(kernel, "fentry", BpfAttachType.TRACE_FENTRY).body(c -> ++runs[0]).load();
        BpfProg multi = BpfProg.builder(kernel, "multi", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> ++runs[1]).load();
        BpfTracingLink regular = t.attach(fentry, "bpf_fentry_test1");
        BpfTracingMultiLink multiLink = t.attachMulti(multi, null,
                TracingMultiOpts.create().names(List.of("bpf_fentry_test1", "bpf_fentry_test2")));
        try (Cpu cpu = kernel.bindCpu(0)) {
            kernel.close();
            State before = State.of(t);

            assertShutdown("regular link close", regular::close);
            assertShutdown("multi link close", multiLink::close);

            assertFalse(regular.isClosed(), "a refused close left the regular link marked closed");
            assertFalse(multiLink.isClosed(), "a refused close left the multi link marked closed");
            assertEquals(before, State.of(t));
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
            assertEquals(1, runs[0], "fentry on bpf_fentry_test1");
            assertEquals(2, runs[1], "the multi link's fexit on test1 and test2");
        }
        assertNoErrors(kernel);
    }

    private static void assertNoErrors(Kernel k) {
        List<KernelLog.Entry> errors = k.log().entries(e -> e.level() == KernelLog.Level.ERR);
        assertTrue(errors.isEmpty(), () -> "kernel log errors: " + errors);
        assertEquals(0, k.allocator().violations(), () -> "KASAN: " + k.allocator().reports());
    }
}
