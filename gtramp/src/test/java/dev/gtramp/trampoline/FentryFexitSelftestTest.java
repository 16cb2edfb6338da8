package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfProgBody;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel selftests {@code prog_tests/fentry_test.c}, {@code fexit_test.c} and
 * {@code fentry_fexit.c} with their programs ({@code progs/fentry_test.c}, {@code progs/fexit_test.c}):
 * eight programs on {@code bpf_fentry_test1..8}, each setting its result to whether it saw exactly the
 * arguments (and, for fexit, the return value) that {@code bpf_prog_test_run} passes. Attaching an
 * already linked program again must fail; detaching and attaching again must work.
 */
class FentryFexitSelftestTest extends SelftestKernel {
    /** The skeleton: eight programs and the .bss they write. */
    static final class Skel {
        final long[] bss = new long[8];
        final List<BpfProg> progs = new ArrayList<>();
        final List<AutoCloseable> links = new ArrayList<>();
        /**
         * Loaded as multi programs ({@code bpf_to_tracing_multi}: FENTRY_MULTI or FEXIT_MULTI, each
         * verified against its function) and attached as one-function multi links
         * ({@code bpf_attach_as_tracing_multi}), as the global trampoline's {@code fentry_multi} and
         * {@code fexit_multi} subtests do.
         */
        final boolean multi;

        Skel() {
            this(false);
        }

        Skel(boolean multi) {
            this.multi = multi;
        }

        void add(Kernel k, BpfAttachType type, int n, int args, boolean ret, BpfProgBody body) {
            BpfProg.Builder b = BpfProg.builder(k, "test" + n, multi ? type.multi() : type).readsArgs(args).body(body);
            if (multi) {
                b.attachBtfId(target(n - 1));
            }
            progs.add((ret ? b.readsReturn() : b).load());
        }

        static String target(int i) {
            return "bpf_fentry_test" + (i + 1);
        }

        void attach(Trampolines t) {
            for (int i = 0; i < progs.size(); i++) {
                links.add(multi
                        ? t.attachMulti(progs.get(i), null, TracingMultiOpts.create().names(List.of(target(i))))
                        : t.attach(progs.get(i), target(i)));
            }
        }

        void detach() throws Exception {
            for (AutoCloseable l : links) {
                l.close();
            }
            links.clear();
        }
    }

    /** {@code progs/fentry_test.c}. */
    static Skel fentrySkel(Kernel k) {
        return fentrySkel(k, false);
    }

    static Skel fentrySkel(Kernel k, boolean multi) {
        Skel s = new Skel(multi);
        long[] r = s.bss;
        BpfAttachType t = BpfAttachType.TRACE_FENTRY;
        s.add(k, t, 1, 1, false, c -> set(r, 0, c.intArg(0) == 1));
        s.add(k, t, 2, 2, false, c -> set(r, 1, c.intArg(0) == 2 && c.arg(1) == 3));
        s.add(k, t, 3, 3, false, c -> set(r, 2, (byte) c.arg(0) == 4 && c.intArg(1) == 5 && c.arg(2) == 6));
        s.add(k, t, 4, 4, false, c -> set(r, 3, c.arg(0) == 7 && (byte) c.arg(1) == 8 && c.intArg(2) == 9
                && c.arg(3) == 10));
        s.add(k, t, 5, 5, false, c -> set(r, 4, c.arg(0) == 11 && c.arg(1) == 12 && (short) c.arg(2) == 13
                && c.intArg(3) == 14 && c.arg(4) == 15));
        s.add(k, t, 6, 6, false, c -> set(r, 5, c.arg(0) == 16 && c.arg(1) == 17 && (short) c.arg(2) == 18
                && c.intArg(3) == 19 && c.arg(4) == 20 && c.arg(5) == 21));
        addPointerTests(k, s, t);
        return s;
    }

    /** {@code progs/fexit_test.c}: the same checks plus the return value, the last BPF_PROG argument. */
    static Skel fexitSkel(Kernel k) {
        return fexitSkel(k, false);
    }

    static Skel fexitSkel(Kernel k, boolean multi) {
        Skel s = new Skel(multi);
        long[] r = s.bss;
        BpfAttachType t = BpfAttachType.TRACE_FEXIT;
        s.add(k, t, 1, 1, true, c -> set(r, 0, c.intArg(0) == 1 && (int) c.ret() == 2));
        s.add(k, t, 2, 2, true, c -> set(r, 1, c.intArg(0) == 2 && c.arg(1) == 3 && (int) c.ret() == 5));
        s.add(k, t, 3, 3, true, c -> set(r, 2, (byte) c.arg(0) == 4 && c.intArg(1) == 5 && c.arg(2) == 6
                && (int) c.ret() == 15));
        s.add(k, t, 4, 4, true, c -> set(r, 3, c.arg(0) == 7 && (byte) c.arg(1) == 8 && c.intArg(2) == 9
                && c.arg(3) == 10 && (int) c.ret() == 34));
        s.add(k, t, 5, 5, true, c -> set(r, 4, c.arg(0) == 11 && c.arg(1) == 12 && (short) c.arg(2) == 13
                && c.intArg(3) == 14 && c.arg(4) == 15 && (int) c.ret() == 65));
        s.add(k, t, 6, 6, true, c -> set(r, 5, c.arg(0) == 16 && c.arg(1) == 17 && (short) c.arg(2) == 18
                && c.intArg(3) == 19 && c.arg(4) == 20 && c.arg(5) == 21 && (int) c.ret() == 111));
        addPointerTests(k, s, t);
        return s;
    }

    /** test7 ({@code if (!arg)}) and test8 ({@code if (!arg->a)}), the same in both files. */
    private static void addPointerTests(Kernel k, Skel s, BpfAttachType t) {
        long[] r = s.bss;
        s.add(k, t, 7, 1, false, c -> {
            if (c.arg(0) == 0) {
                r[6] = 1;
            }
            return 0;
        });
        s.add(k, t, 8, 1, false, c -> {
            if (c.kernel().memory().load64(c.arg(0)) == 0) {
                r[7] = 1;
            }
            return 0;
        });
    }

    private static long set(long[] bss, int i, boolean v) {
        bss[i] = v ? 1 : 0;
        return 0;
    }

    /** {@code fentry_test_common} / {@code fexit_test_common}. */
    private void common(Trampolines t, Skel s) throws Exception {
        s.attach(t);
        KernelException again = assertThrows(KernelException.class, () -> t.attach(s.progs.get(0), "bpf_fentry_test1"));
        assertEquals(Errno.EBUSY, again.errno());
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
        }
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1}, s.bss);
        s.detach();
        java.util.Arrays.fill(s.bss, 0);
    }

    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void fentry(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        Skel s = fentrySkel(kernel);
        common(t, s);
        common(t, s);
        assertNothingAttached(t);
    }

    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void fexit(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        Skel s = fexitSkel(kernel);
        common(t, s);
        common(t, s);
        assertNothingAttached(t);
    }

    /** {@code fentry_fexit.c}: both skeletons at once, one fentry and one fexit program per function. */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void fentryFexit(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        Skel fentry = fentrySkel(kernel);
        Skel fexit = fexitSkel(kernel);
        fentry.attach(t);
        fexit.attach(t);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
        }
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1}, fentry.bss);
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1}, fexit.bss);
        assertEquals(List.of("fentry:test1", "fexit:test1"),
                t.trampoline(kernel.function("bpf_fentry_test1")).orElseThrow().programOrder());
        fentry.detach();
        fexit.detach();
        assertNothingAttached(t);
    }

    /**
     * No trampoline, no {@code kfunc_md}, no patched site, no direct entry and, after the grace periods,
     * no image, md or md program node; no KASAN report.
     */
    static void assertNothingAttached(Trampolines t) {
        assertEquals(0, t.trampolineCount());
        assertEquals(0, t.ftrace().directFunctionCount());
        assertTrue(t.ftrace().enabledRecords().isEmpty(), () -> "enabled: " + t.ftrace().enabledRecords());
        assertTrue(t.drainRetiredImages(10), "images still retiring: " + t.imagesRetiring());
        assertEquals(0, t.kernel().allocator().snapshot().usage("bpf_tramp_image").liveObjects());
        assertEquals(0, t.kernel().allocator().snapshot().usage("bpf_trampoline").liveObjects());
        assertEquals(0, t.kfuncMdCount());
        assertEquals(0, t.kernel().allocator().snapshot().usage("kfunc_md").liveObjects());
        assertEquals(0, t.kernel().allocator().snapshot().usage("kfunc_md_tramp_prog").liveObjects());
        assertEquals(0, t.kernel().allocator().violations(), () -> "KASAN: " + t.kernel().allocator().reports());
    }
}
