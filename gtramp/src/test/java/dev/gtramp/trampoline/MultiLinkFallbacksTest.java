package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BpfTracingMultiLink#fallbacks()} does not depend on link order: every link whose target
 * the global caller cannot serve lists it, whether it was the link that gave the md its fallback
 * trampoline or joined that trampoline later, before or after the first link closed.
 */
class MultiLinkFallbacksTest extends SelftestKernel {
    private static final String FALLBACK = "bpf_modify_return_test2"; // seven argument registers

    private static List<String> names(BpfTracingMultiLink l) {
        return l.fallbacks().stream().map(MultiLinkFallback::function).toList();
    }

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void everyLinkOnAFallbackListsIt(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        long[] runs = {0, 0, 0};
        BpfProg a = BpfProg.builder(kernel, "a", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> ++runs[0]).load();
        BpfProg b = BpfProg.builder(kernel, "b", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> ++runs[1]).load();
        BpfProg c3 = BpfProg.builder(kernel, "c", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> ++runs[2]).load();
        BpfTracingMultiLink first = t.attachMulti(a, "bpf_modify_return_test*", null);
        BpfTracingMultiLink second = t.attachMulti(b, null,
                TracingMultiOpts.create().names(List.of("bpf_modify_return_test", FALLBACK)));
        assertEquals(List.of(FALLBACK), names(first));
        assertEquals(List.of(FALLBACK), names(second), "the second link on the fallback trampoline");
        assertEquals(first.fallbacks(), second.fallbacks(), "the same reason");
        assertTrue(second.fallbacks().get(0).reason().contains("7 argument registers"),
                second.fallbacks().get(0).reason());
        assertEquals(List.of("fentry:a", "fexit:b"),
                t.trampoline(kernel.function(FALLBACK)).orElseThrow().programOrder().stream().sorted().toList());

        first.close();
        assertEquals(List.of(FALLBACK), names(second), "still served by the trampoline after the first link closed");
        BpfTracingMultiLink third = t.attachMulti(c3, FALLBACK, null);
        assertEquals(List.of(FALLBACK), names(third), "a link arriving after the first closed");
        try (Cpu cpu = kernel.bindCpu(0)) {
            BpfTestRun.modifyReturn(cpu);
        }
        assertEquals(0, runs[0]);
        assertEquals(2, runs[1], "b on both functions");
        assertEquals(1, runs[2], "c on the fallback");
        second.close();
        third.close();
        a.close();
        b.close();
        c3.close();
        assertNothingAttached(t);
    }
}
