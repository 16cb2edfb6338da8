package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code opts.skip_invalid}: a pattern or a target list with functions the attach checks refuse
 * attaches to the rest, as bpftrace does for a wildcard, and the link says which were left out and
 * why; without the option the whole link is refused and nothing is left behind.
 */
class SkipInvalidTest extends SelftestKernel {

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void patternSkipsWhatTheTrampolineCannotServe(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        BpfProg prog = BpfProg.builder(kernel, "tcp_all", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        List<KernelFunction> matched = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (var f : kernel.image().match("tcp_*")) {
            KernelFunction kf = kernel.function(f);
            matched.add(kf);
            t.attachRefusal(prog, kf).ifPresent(why -> refused.add(kf.name()));
        }
        assertTrue(!refused.isEmpty() && refused.size() < matched.size(), "refused " + refused);

        KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(prog, "tcp_*", null));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains(refused.get(0)), e.getMessage());
        assertNothingAttached(t);

        try (BpfTracingMultiLink link = t.attachMulti(prog, "tcp_*", TracingMultiOpts.create().skipInvalid(true))) {
            assertEquals(matched.size() - refused.size(), link.size());
            assertEquals(refused, link.skipped().stream().map(MultiLinkSkip::function).toList());
            assertTrue(link.skipped().stream().allMatch(s -> !s.reason().isEmpty()));
            assertTrue(link.functions().stream().noneMatch(refused::contains));
            assertTrue(link.toString().contains(refused.size() + " skipped"), link.toString());
        }
        prog.close();
        assertNothingAttached(t);
    }

    /** The cookies of the kept targets stay with their functions when a target between them is skipped. */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void cookiesFollowTheKeptTargets(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        long[] seen = new long[2];
        BpfProg prog = BpfProg.builder(kernel, "cookies", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> {
            seen[c.getFuncIp() == kernel.function("bpf_fentry_test1").ip() ? 0 : 1] = c.getAttachCookie();
            return 0;
        }).load();
        String invalid = firstRefused(t, prog);
        List<String> names = List.of("bpf_fentry_test1", invalid, "bpf_fentry_test2");
        TracingMultiOpts opts = TracingMultiOpts.create().names(names).cookies(11, 22, 33).skipInvalid(true);
        try (BpfTracingMultiLink link = t.attachMulti(prog, null, opts);
             Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(List.of("bpf_fentry_test1", "bpf_fentry_test2"), link.functions());
            assertEquals(List.of(invalid), link.skipped().stream().map(MultiLinkSkip::function).toList());
            assertEquals(11, link.cookies()[0]);
            assertEquals(33, link.cookies()[1]);
            cpu.call(kernel.function("bpf_fentry_test1"), 1);
            cpu.call(kernel.function("bpf_fentry_test2"), 2, 3);
            assertEquals(11, seen[0]);
            assertEquals(33, seen[1]);
        }
        prog.close();
        assertNothingAttached(t);
    }

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void everyTargetInvalidIsRefusedNamingTheFirst(TrampolinesConfig config) {
        Trampolines t = boot(config);
        BpfProg prog = BpfProg.builder(kernel, "none", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        String invalid = firstRefused(t, prog);
        TracingMultiOpts opts = TracingMultiOpts.create().names(List.of(invalid)).skipInvalid(true);
        KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(prog, null, opts));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains(invalid), e.getMessage());
        prog.close();
        assertNothingAttached(t);
    }

    /** The first {@code tcp_*} function the attach checks refuse {@code prog} (one whose prototype the trampoline cannot serve). */
    private String firstRefused(Trampolines t, BpfProg prog) {
        return kernel.image().match("tcp_*").stream().map(kernel::function)
                .filter(f -> t.attachRefusal(prog, f).isPresent())
                .findFirst().orElseThrow().name();
    }
}
