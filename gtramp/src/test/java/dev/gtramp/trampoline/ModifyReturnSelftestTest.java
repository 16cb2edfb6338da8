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

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel selftest {@code prog_tests/modify_return.c} with {@code progs/modify_return.c}: an
 * fentry, an fmod_ret and an fexit program on each of {@code bpf_modify_return_test} and
 * {@code bpf_modify_return_test2}. Each program counts a per-function {@code sequence} and records
 * whether it ran in the order fentry (1), fmod_ret (2), fexit (3); the fmod_ret program sees the
 * return slot still 0 and returns {@code input_retval}, which, when non-zero, replaces the return
 * value and skips the function, so the fexit program sees it instead of the real return value.
 *
 * <p>{@code bpf_prog_test_run} of the fmod_ret program calls both functions with {@code b = 2} and
 * returns {@code (side_effect << 16) | ret}, {@code side_effect} counting the calls whose body ran
 * (it increments {@code *b}) and {@code ret} the u16 sum of both return values. The model's process
 * is the only one calling the functions, so the programs' pid filter is left out.
 */
class ModifyReturnSelftestTest extends SelftestKernel {
    /**
     * The skeleton {@code modify_return}: its six programs and its .bss. The programs of
     * {@code bpf_modify_return_test2} ({@code fentry_test2}, {@code fmod_ret_test2},
     * {@code fexit_test2}) are those of {@code bpf_modify_return_test} with the function's seven
     * arguments, their own {@code sequence2} and results, and 29 instead of 4 as the return value
     * fexit expects. The {@code static int} sequence counters are not in the skeleton but in the
     * loaded object, so each skeleton starts them at 0.
     */
    static final class Skel {
        int inputRetval;
        /** {@code sequence}, {@code sequence2}. */
        final int[] sequence = new int[2];
        /** {@code fentry_result}, {@code fmod_ret_result}, {@code fexit_result}; then the same with suffix 2. */
        final long[][] result = new long[2][3];
        final List<BpfProg> progs = new ArrayList<>();
        final List<String> targets = new ArrayList<>();
        final List<AutoCloseable> links = new ArrayList<>();

        /** Loaded and attached as multi programs on {@code bpf_modify_return_test} only (see {@link #Skel(Kernel, boolean)}). */
        final boolean multi;

        Skel(Kernel k) {
            this(k, false);
        }

        /**
         * With {@code multi}, the fork's {@code serial_test_modify_return_multi}: the three programs
         * of {@code bpf_modify_return_test} as FENTRY_MULTI, MODIFY_RETURN_MULTI and FEXIT_MULTI,
         * each attached as a one-function multi link; {@code bpf_modify_return_test2} (seven
         * arguments, one on the stack) has none, so it always runs.
         */
        Skel(Kernel k, boolean multi) {
            this.multi = multi;
            addPrograms(k, 0, "", "bpf_modify_return_test", 2, 4);
            if (!multi) {
                addPrograms(k, 1, "2", "bpf_modify_return_test2", 7, 29);
            }
        }

        /**
         * The fentry, fmod_ret and fexit programs of one function, each declaring the function's
         * {@code args} arguments as its {@code BPF_PROG} parameters (plus {@code int ret} for fmod_ret
         * and fexit).
         */
        private void addPrograms(Kernel k, int n, String suffix, String function, int args, int realRet) {
            long[] r = result[n];
            add(k, "fentry_test" + suffix, BpfAttachType.TRACE_FENTRY, function, args, false, c -> {
                sequence[n]++;
                r[0] = sequence[n] == 1 ? 1 : 0;
                return 0;
            });
            add(k, "fmod_ret_test" + suffix, BpfAttachType.MODIFY_RETURN, function, args, true, c -> {
                sequence[n]++;
                // This is the first fmod_ret program, the ret passed should be 0.
                r[1] = sequence[n] == 2 && (int) c.ret() == 0 ? 1 : 0;
                return inputRetval;
            });
            add(k, "fexit_test" + suffix, BpfAttachType.TRACE_FEXIT, function, args, true, c -> {
                sequence[n]++;
                int ret = (int) c.ret();
                if (inputRetval != 0) {
                    r[2] = sequence[n] == 3 && ret == inputRetval ? 1 : 0;
                } else {
                    r[2] = sequence[n] == 3 && ret == realRet ? 1 : 0;
                }
                return 0;
            });
        }

        private void add(Kernel k, String name, BpfAttachType type, String target, int args, boolean ret,
                         BpfProgBody body) {
            BpfProg.Builder b = BpfProg.builder(k, name, multi ? type.multi() : type).readsArgs(args).body(body);
            if (multi) {
                b.attachBtfId(target);
            }
            progs.add((ret ? b.readsReturn() : b).load());
            targets.add(target);
        }

        /** {@code skel->progs.fmod_ret_test}, whose fd the test run is given. */
        BpfProg fmodRetTest() {
            return progs.get(1);
        }

        /** {@code modify_return__attach}: every program on its {@code SEC()} target. */
        void attach(Trampolines t) {
            for (int i = 0; i < progs.size(); i++) {
                links.add(multi
                        ? t.attachMulti(progs.get(i), null, TracingMultiOpts.create().names(List.of(targets.get(i))))
                        : t.attach(progs.get(i), targets.get(i)));
            }
        }

        /** {@code modify_return__destroy}: the links, then the programs. */
        void destroy() throws Exception {
            for (AutoCloseable l : links) {
                l.close();
            }
            links.clear();
            for (BpfProg p : progs) {
                p.close();
            }
        }
    }

    /** {@code run_test(input_retval, want_side_effect, want_ret)}. */
    private void runTest(Trampolines t, int inputRetval, int wantSideEffect, short wantRet) throws Exception {
        Skel skel = new Skel(kernel);
        skel.inputRetval = inputRetval;
        skel.attach(t);
        int retval;
        try (Cpu cpu = kernel.bindCpu(0)) {
            // The fd of fmod_ret_test selects the BPF_MODIFY_RETURN branch of the test run.
            assertEquals(BpfAttachType.MODIFY_RETURN, skel.fmodRetTest().attachType());
            retval = BpfTestRun.modifyReturn(cpu);
        }
        int sideEffect = (retval >>> 16) & 0xffff;
        short ret = (short) (retval & 0xffff);
        assertEquals(wantRet, ret, "ret");
        assertEquals(wantSideEffect, sideEffect, "side_effect");
        assertArrayEquals(new long[] {1, 1, 1}, skel.result[0], "fentry_result, fmod_ret_result, fexit_result");
        assertArrayEquals(new long[] {1, 1, 1}, skel.result[1], "fentry_result2, fmod_ret_result2, fexit_result2");
        assertArrayEquals(new int[] {3, 3}, skel.sequence, "sequence, sequence2");
        skel.destroy();
        assertNothingAttached(t);
    }

    /**
     * {@code test_modify_return}: with {@code input_retval = 0} both bodies run (4 + 29 = 33, two side
     * effects); with {@code -EINVAL} both are skipped and the u16 sum is {@code -EINVAL * 2}.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void modifyReturn(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        runTest(t, 0, 2, (short) 33);
        runTest(t, -Errno.EINVAL.code(), 0, (short) (-Errno.EINVAL.code() * 2));
    }

    /** The first run's exact {@code retval}: {@code (2 << 16) | 33}; the second's: {@code 0xffd4}. */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void retvalWords(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0x0002_0021, BpfTestRun.modifyReturn(cpu), "no program attached");
        }
        Skel skel = new Skel(kernel);
        skel.inputRetval = -Errno.EINVAL.code();
        skel.attach(t);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0x0000_ffd4, BpfTestRun.modifyReturn(cpu));
        }
        skel.destroy();
        assertNothingAttached(t);
    }

    /**
     * {@code check_attach_modify_return}: {@code bpf_fentry_test2} is neither an error-injection point
     * nor in the fmodret id set, so an fmod_ret program cannot attach to it, and the refusal names it.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void fmodRetOnDisallowedFunction(FtraceStrategy strategy) {
        Trampolines t = boot(strategy);
        BpfProg p = BpfProg.builder(kernel, "fmod_ret_test2", BpfAttachType.MODIFY_RETURN).readsArgs(2).readsReturn()
                .body(c -> 0).load();
        KernelException e = assertThrows(KernelException.class, () -> t.attach(p, "bpf_fentry_test2"));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("bpf_fentry_test2"), e.getMessage());
        assertEquals(1, p.refCount(), "the failed attach keeps no reference to the program");
        p.close();
        assertNothingAttached(t);
    }
}
