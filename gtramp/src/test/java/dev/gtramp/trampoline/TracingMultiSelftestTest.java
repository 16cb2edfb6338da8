package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTraceCtx;
import dev.gtramp.kernel.fault.FaultSpec;
import dev.gtramp.kernel.image.ImageFunction;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel selftest {@code prog_tests/tracing_multi.c} (subtests {@code link_api_pattern},
 * {@code link_api_ids}, {@code cookies}, {@code intersect}, {@code attach_api_fails}) and
 * {@code serial_test_tracing_multi_attach_rollback} (subtests {@code put} and {@code unlink}), with
 * their programs ({@code progs/tracing_multi_attach.c}, {@code tracing_multi_intersect_attach.c},
 * {@code tracing_multi_fail.c}, {@code tracing_multi_rollback.c}) and the shared checker
 * {@code progs/tracing_multi_check.c}.
 *
 * <p>The model has one process, so the programs' pid filter is left out. It has no sleepable
 * programs: the skeleton's {@code fentry.multi.s} and {@code fexit.multi.s} programs on
 * {@code bpf_fentry_test1} become plain {@code fentry.multi} and {@code fexit.multi} programs on
 * {@code bpf_fentry_test1}, so each counter still ends at 10 + 1 = 11. The module subtests and
 * {@code session} are not ported.
 */
class TracingMultiSelftestTest extends SelftestKernel {
    /** {@code bpf_fentry_test_cookies[]}: the cookie of {@code bpf_fentry_test1..10}. */
    static final long[] COOKIES = {8, 9, 7, 5, 4, 2, 3, 1, 10, 6};
    /** {@code FUNCS_CNT}. */
    static final int FUNCS_CNT = 10;

    /** {@code bpf_fentry_test[]}: {@code "bpf_fentry_test1"} .. {@code "bpf_fentry_test10"}. */
    static String fentryTest(int i) {
        return "bpf_fentry_test" + (i + 1);
    }

    /**
     * {@code get_ids(funcs, cnt, NULL)}: the BTF id of each name, in the order of the names (so
     * {@code ids[i]} belongs to {@code funcs[i]} and to {@code cookies[i]}); in the model the BTF id is
     * the image's function index.
     */
    private long[] getIds(List<String> funcs) {
        long[] ids = new long[funcs.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = kernel.function(funcs.get(i)).imageFunction().index();
        }
        return ids;
    }

    private long[] getIdsAll() {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < FUNCS_CNT; i++) {
            all.add(fentryTest(i));
        }
        return getIds(all);
    }

    /** {@code bpf_prog_test_run_opts} of any fentry or fexit (multi) program: calls test1..10. */
    private void testRun() {
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu), "test_run");
        }
    }

    // ------------------------------------------------------------------ the shared checker

    /** {@code progs/tracing_multi_check.c}: its globals and {@code tracing_multi_arg_check}. */
    static final class Checker {
        /** {@code &bpf_fentry_test1} .. {@code &bpf_fentry_test10}, the {@code __ksym} addresses. */
        private final long[] ip = new long[FUNCS_CNT];
        /** {@code bool test_cookies}. */
        boolean testCookies;

        Checker(Kernel k) {
            for (int i = 0; i < FUNCS_CNT; i++) {
                ip[i] = k.function(fentryTest(i)).ip();
            }
        }

        /**
         * {@code int tracing_multi_arg_check(__u64 *ctx, __u64 *test_result, bool is_return)}, with
         * {@code test_result} as slot {@code slot} of {@code results}. Counts 1 when the function's
         * arguments (and, on return, its return value and, with {@code test_cookies}, the link's
         * cookie for it) are what the test run passes; a helper failure is ORed into {@code err}.
         * The pid check (the only {@code return 1}) is left out.
         */
        int check(BpfTraceCtx ctx, long[] results, int slot, boolean isReturn) {
            long ip = ctx.getFuncIp();
            long[] value = {0};
            long[] ret = {0};
            long cookie = 0;
            long err = 0;

            if (isReturn) {
                err |= ctx.getFuncRet(ret);
            }
            if (testCookies) {
                cookie = ctx.getAttachCookie();
            }

            if (ip == this.ip[0]) {
                err |= ctx.getFuncArg(0, value);
                int a = (int) value[0];

                err |= isReturn ? b(ret[0] != 2) : 0;
                err |= testCookies ? b(cookie != 8) : 0;

                results[slot] += b(err == 0 && a == 1);
            } else if (ip == this.ip[1]) {
                err |= ctx.getFuncArg(0, value);
                int a = (int) value[0];
                err |= ctx.getFuncArg(1, value);
                long b = value[0];

                err |= isReturn ? b(ret[0] != 5) : 0;
                err |= testCookies ? b(cookie != 9) : 0;

                results[slot] += b(err == 0 && a == 2 && b == 3);
            } else if (ip == this.ip[2]) {
                err |= ctx.getFuncArg(0, value);
                byte a = (byte) value[0];
                err |= ctx.getFuncArg(1, value);
                int b = (int) value[0];
                err |= ctx.getFuncArg(2, value);
                long c = value[0];

                err |= isReturn ? b(ret[0] != 15) : 0;
                err |= testCookies ? b(cookie != 7) : 0;

                results[slot] += b(err == 0 && a == 4 && b == 5 && c == 6);
            } else if (ip == this.ip[3]) {
                err |= ctx.getFuncArg(0, value);
                long a = value[0];
                err |= ctx.getFuncArg(1, value);
                byte b = (byte) value[0];
                err |= ctx.getFuncArg(2, value);
                int c = (int) value[0];
                err |= ctx.getFuncArg(3, value);
                long d = value[0];

                err |= isReturn ? b(ret[0] != 34) : 0;
                err |= testCookies ? b(cookie != 5) : 0;

                results[slot] += b(err == 0 && a == 7 && b == 8 && c == 9 && d == 10);
            } else if (ip == this.ip[4]) {
                err |= ctx.getFuncArg(0, value);
                long a = value[0];
                err |= ctx.getFuncArg(1, value);
                long b = value[0];
                err |= ctx.getFuncArg(2, value);
                short c = (short) value[0];
                err |= ctx.getFuncArg(3, value);
                int d = (int) value[0];
                err |= ctx.getFuncArg(4, value);
                long e = value[0];

                err |= isReturn ? b(ret[0] != 65) : 0;
                err |= testCookies ? b(cookie != 4) : 0;

                results[slot] += b(err == 0 && a == 11 && b == 12 && c == 13 && d == 14 && e == 15);
            } else if (ip == this.ip[5]) {
                err |= ctx.getFuncArg(0, value);
                long a = value[0];
                err |= ctx.getFuncArg(1, value);
                long b = value[0];
                err |= ctx.getFuncArg(2, value);
                short c = (short) value[0];
                err |= ctx.getFuncArg(3, value);
                int d = (int) value[0];
                err |= ctx.getFuncArg(4, value);
                long e = value[0];
                err |= ctx.getFuncArg(5, value);
                long f = value[0];

                err |= isReturn ? b(ret[0] != 111) : 0;
                err |= testCookies ? b(cookie != 2) : 0;

                results[slot] += b(err == 0 && a == 16 && b == 17 && c == 18 && d == 19 && e == 20 && f == 21);
            } else if (ip == this.ip[6]) {
                err |= isReturn ? b(ret[0] != 0) : 0;
                err |= testCookies ? b(cookie != 3) : 0;

                results[slot] += err == 0 ? 1 : 0;
            } else if (ip == this.ip[7]) {
                err |= isReturn ? b(ret[0] != 0) : 0;
                err |= testCookies ? b(cookie != 1) : 0;

                results[slot] += err == 0 ? 1 : 0;
            } else if (ip == this.ip[8]) {
                err |= isReturn ? b(ret[0] != 0) : 0;
                err |= testCookies ? b(cookie != 10) : 0;

                results[slot] += err == 0 ? 1 : 0;
            } else if (ip == this.ip[9]) {
                err |= isReturn ? b(ret[0] != 0) : 0;
                err |= testCookies ? b(cookie != 6) : 0;

                results[slot] += err == 0 ? 1 : 0;
            }
            // bpf_testmod_fentry_test*: no module in the model.

            return 0;
        }

        /** C's conversion of a comparison to int. */
        private static int b(boolean v) {
            return v ? 1 : 0;
        }
    }

    // ------------------------------------------------------------------ tracing_multi_attach.c

    /**
     * The skeleton {@code tracing_multi}: {@code test_fentry}, {@code test_fexit}, and the stand-ins
     * for the sleepable {@code test_fentry_s} and {@code test_fexit_s}, which add to the same counters.
     */
    static final class Skel {
        /** {@code test_result_fentry}, {@code test_result_fexit}. */
        final long[] bss = new long[2];
        final Checker checker;
        final BpfProg testFentry;
        final BpfProg testFexit;
        final BpfProg testFentryS;
        final BpfProg testFexitS;
        final List<AutoCloseable> links = new ArrayList<>();

        Skel(Kernel k) {
            checker = new Checker(k);
            testFentry = prog(k, "test_fentry", BpfAttachType.TRACE_FENTRY_MULTI, 0, false);
            testFexit = prog(k, "test_fexit", BpfAttachType.TRACE_FEXIT_MULTI, 1, true);
            testFentryS = prog(k, "test_fentry_s", BpfAttachType.TRACE_FENTRY_MULTI, 0, false);
            testFexitS = prog(k, "test_fexit_s", BpfAttachType.TRACE_FEXIT_MULTI, 1, true);
        }

        private BpfProg prog(Kernel k, String name, BpfAttachType type, int slot, boolean isReturn) {
            return BpfProg.builder(k, name, type).body(c -> checker.check(c, bss, slot, isReturn)).load();
        }

        void destroy() throws Exception {
            for (AutoCloseable l : links) {
                l.close();
            }
            links.clear();
            for (BpfProg p : List.of(testFentry, testFexit, testFentryS, testFexitS)) {
                p.close();
            }
        }
    }

    /** {@code tracing_multi_test_run}: both counters at {@code FUNCS_CNT + 1}. */
    private void tracingMultiTestRun(Skel skel) {
        testRun();
        assertEquals(FUNCS_CNT + 1, skel.bss[0], "test_result_fentry");
        assertEquals(FUNCS_CNT + 1, skel.bss[1], "test_result_fexit");
    }

    /**
     * {@code link_api_pattern}: {@code "bpf_fentry_test*"} also matches functions the test run never
     * calls ({@code bpf_fentry_test_sinfo}), which add nothing.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void linkApiPattern(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        Skel skel = new Skel(kernel);
        BpfTracingMultiLink fentry = t.attachMulti(skel.testFentry, "bpf_fentry_test*", null);
        skel.links.add(fentry);
        skel.links.add(t.attachMulti(skel.testFexit, "bpf_fentry_test*", null));
        skel.links.add(t.attachMulti(skel.testFentryS, "bpf_fentry_test1", null));
        skel.links.add(t.attachMulti(skel.testFexitS, "bpf_fentry_test1", null));
        List<String> matched = new ArrayList<>();
        for (ImageFunction f : kernel.image().match("bpf_fentry_test*")) {
            matched.add(f.name());
        }
        assertEquals(matched, fentry.functions());
        assertTrue(matched.size() > FUNCS_CNT, () -> "the pattern matches only " + matched);
        tracingMultiTestRun(skel);
        skel.destroy();
        assertNothingAttached(t);
    }

    /** {@code link_api_ids}: {@code test_link_api_ids(false)}. */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void linkApiIds(TrampolinesConfig config) throws Exception {
        linkApiIds(boot(config), false);
    }

    /**
     * {@code cookies}: {@code test_link_api_ids(true)}; every checker call also compares the link's
     * cookie for the function. The programs on {@code bpf_fentry_test1} alone reuse the opts with
     * {@code cnt = 1}, so they get {@code cookies[0] = 8}, which is what the checker expects there.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void cookies(TrampolinesConfig config) throws Exception {
        linkApiIds(boot(config), true);
    }

    /** {@code test_link_api_ids(test_cookies)}. */
    private void linkApiIds(Trampolines t, boolean testCookies) throws Exception {
        Skel skel = new Skel(kernel);
        skel.checker.testCookies = testCookies;
        long[] ids = getIdsAll();
        TracingMultiOpts opts = TracingMultiOpts.create().ids(ids).cnt(FUNCS_CNT);
        if (testCookies) {
            opts.cookies(COOKIES);
        }
        BpfTracingMultiLink fentry = t.attachMulti(skel.testFentry, null, opts);
        skel.links.add(fentry);
        skel.links.add(t.attachMulti(skel.testFexit, null, opts));
        // Only bpf_fentry_test1 is allowed for sleepable programs.
        opts.cnt(1);
        BpfTracingMultiLink fentryS = t.attachMulti(skel.testFentryS, null, opts);
        skel.links.add(fentryS);
        skel.links.add(t.attachMulti(skel.testFexitS, null, opts));
        assertEquals(List.of("bpf_fentry_test1"), fentryS.functions());
        assertArrayEquals(testCookies ? COOKIES : new long[FUNCS_CNT], fentry.cookies());
        tracingMultiTestRun(skel);
        skel.destroy();
        assertNothingAttached(t);
    }

    // ------------------------------------------------------------------ intersect

    /**
     * {@code get_random_funcs}: each of test1..10 with probability 1/2, in order; one at random if
     * none was chosen.
     */
    private static List<String> getRandomFuncs(Random rand) {
        List<String> funcs = new ArrayList<>();
        for (int i = 0; i < FUNCS_CNT; i++) {
            if (rand.nextInt(2) == 1) {
                funcs.add(fentryTest(i));
            }
        }
        // we always need at least one..
        if (funcs.isEmpty()) {
            funcs.add(fentryTest(rand.nextInt(FUNCS_CNT)));
        }
        return funcs;
    }

    /**
     * {@code intersect}: for each mask 1..15, the masked ones of {@code fentry_1}, {@code fexit_1},
     * {@code fentry_2}, {@code fexit_2} each attach to a fresh random subset of test1..10; one test
     * run then adds exactly the subset's size to each attached program's counter. The counters are
     * never reset, and every link is closed before the next mask, so each mask starts from
     * trampolines rebuilt by the previous detaches. {@code rand()} is unseeded upstream; a fixed seed
     * keeps the subsets reproducible here.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#allConfigs")
    void intersect(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        Checker checker = new Checker(kernel);
        // test_result_fentry_1, test_result_fexit_1, test_result_fentry_2, test_result_fexit_2
        long[] results = new long[4];
        String[] names = {"fentry_1", "fexit_1", "fentry_2", "fexit_2"};
        BpfProg[] progs = new BpfProg[4];
        for (int i = 0; i < 4; i++) {
            int slot = i;
            boolean isReturn = i % 2 == 1;
            progs[i] = BpfProg.builder(kernel, names[i],
                            isReturn ? BpfAttachType.TRACE_FEXIT_MULTI : BpfAttachType.TRACE_FENTRY_MULTI)
                    .body(c -> checker.check(c, results, slot, isReturn)).load();
        }
        Random rand = new Random(20260401L);
        for (int mask = 1; mask < 16; mask++) {
            testIntersect(t, mask, progs, results, rand);
        }
        for (BpfProg p : progs) {
            p.close();
        }
        assertNothingAttached(t);
    }

    /** {@code __test_intersect(mask, progs, test_results)}. */
    private void testIntersect(Trampolines t, int mask, BpfProg[] progs, long[] results, Random rand) {
        BpfTracingMultiLink[] links = new BpfTracingMultiLink[4];
        long[] expected = new long[4];
        try {
            for (int i = 0; i < 4; i++) {
                if ((mask & (1 << i)) == 0) {
                    continue;
                }
                List<String> funcs = getRandomFuncs(rand);
                TracingMultiOpts opts = TracingMultiOpts.create().ids(getIds(funcs)).cnt(funcs.size());
                links[i] = t.attachMulti(progs[i], null, opts);
                expected[i] = results[i] + funcs.size();
            }
            testRun();
            for (int i = 0; i < 4; i++) {
                if ((mask & (1 << i)) != 0) {
                    assertEquals(expected[i], results[i], "mask " + mask + ", " + progs[i].name());
                }
            }
        } finally {
            for (BpfTracingMultiLink l : links) {
                if (l != null) {
                    l.close();
                }
            }
        }
        assertNothingAttached(t);
    }

    // ------------------------------------------------------------------ attach_api_fails

    /**
     * {@code attach_api_fails} with {@code progs/tracing_multi_fail.c}: the libbpf checks (#1 neither
     * pattern nor opts, #2 a pattern with ids, #3 a pattern with cookies, #4 a pattern matching
     * nothing) and the kernel's (#5 {@code cnt = INT_MAX}, #7 the same id twice). Case #6 attaches a
     * sleepable program to {@code bpf_fentry_test2}, which is refused only because the program is
     * sleepable; the model has no sleepable programs, so it is not ported.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void attachApiFails(FtraceStrategy strategy) {
        Trampolines t = boot(strategy);
        BpfProg testFentry = BpfProg.builder(kernel, "test_fentry", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        long[] ids = new long[2];
        long[] cookies = new long[2];

        // fail#1 (libbpf) pattern and opts NULL
        assertErrno(Errno.EINVAL, () -> t.attachMulti(testFentry, null, null), "fail_1");
        // fail#2 (libbpf) pattern and ids
        assertErrno(Errno.EINVAL, () -> t.attachMulti(testFentry, "bpf_fentry_test*",
                TracingMultiOpts.create().ids(ids).cnt(2)), "fail_2");
        // fail#3 (libbpf) pattern and cookies
        assertErrno(Errno.EINVAL, () -> t.attachMulti(testFentry, "bpf_fentry_test*",
                TracingMultiOpts.create().cnt(2).cookies(cookies)), "fail_3");
        // fail#4 (libbpf) bogus pattern
        assertErrno(Errno.EINVAL, () -> t.attachMulti(testFentry, "bpf_not_really_a_function*", null), "fail_4");
        // fail#5 (kernel) abnormal cnt
        assertErrno(Errno.E2BIG, () -> t.attachMulti(testFentry, null,
                TracingMultiOpts.create().ids(ids).cnt(Integer.MAX_VALUE)), "fail_5");
        // fail#7 (kernel) attach with duplicate id
        long[] ids2 = getIds(List.of("bpf_fentry_test2"));
        ids[0] = ids2[0];
        ids[1] = ids2[0];
        KernelException dup = assertErrno(Errno.EINVAL, () -> t.attachMulti(testFentry, null,
                TracingMultiOpts.create().ids(ids).cnt(2)), "fail_7");
        assertTrue(dup.getMessage().contains("bpf_fentry_test2"), dup.getMessage());

        assertEquals(1, testFentry.refCount(), "the failed attaches keep no reference to the program");
        testFentry.close();
        assertNothingAttached(t);
    }

    private static KernelException assertErrno(Errno want, Executable attach, String what) {
        KernelException e = assertThrows(KernelException.class, attach, what);
        assertEquals(want, e.errno(), () -> what + ": " + e.getMessage());
        return e;
    }

    // ------------------------------------------------------------------ attach_rollback

    /**
     * The skeleton {@code tracing_multi_rollback}: {@code test_fentry} and {@code test_fexit} count
     * every run (no checker); {@code extra} and {@code filler} do nothing and are loaded from their
     * own skeletons.
     */
    static final class RollbackSkel {
        /** {@code test_result_fentry}, {@code test_result_fexit}. */
        final long[] bss = new long[2];
        final BpfProg testFentry;
        final BpfProg testFexit;

        RollbackSkel(Kernel k) {
            testFentry = BpfProg.builder(k, "test_fentry", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> {
                bss[0]++;
                return 0;
            }).load();
            testFexit = BpfProg.builder(k, "test_fexit", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> {
                bss[1]++;
                return 0;
            }).load();
        }

        /** Both multi programs on {@code ids}; each attach must fail, returning the errors. */
        List<KernelException> attachBothFails(Trampolines t, long[] ids) {
            List<KernelException> errors = new ArrayList<>();
            TracingMultiOpts opts = TracingMultiOpts.create().ids(ids).cnt(ids.length);
            for (BpfProg p : List.of(testFentry, testFexit)) {
                errors.add(assertThrows(KernelException.class, () -> t.attachMulti(p, null, opts), p.name()));
                assertEquals(1, p.refCount(), () -> p + " keeps a reference after its failed attach");
            }
            return errors;
        }

        void destroy() {
            testFentry.close();
            testFexit.close();
        }
    }

    /**
     * {@code tracing_multi_rollback_run}: the test run (the unattached {@code test_fentry}'s fd is
     * enough) must not run either multi program: "make sure the rollback code did not leave any
     * program attached".
     */
    private void rollbackRun(RollbackSkel skel) {
        testRun();
        assertEquals(0, skel.bss[0], "test_result_fentry");
        assertEquals(0, skel.bss[1], "test_result_fexit");
        assertEquals(0, skel.testFentry.stats().runs());
        assertEquals(0, skel.testFexit.stats().runs());
    }

    /**
     * Rollback {@code put}: the last id is mangled to 0 so that the attach fails after getting the
     * other trampolines, and must put them. BTF id 0 is {@code void}; in the model id 0 is image
     * function 0, which (asserted here) is not traceable, so the attach fails with EINVAL naming it.
     * The model checks every target before taking any trampoline, so this failure takes none; the
     * put of trampolines already taken is exercised by {@link #rollbackPutAfterGets}.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void rollbackPut(FtraceStrategy strategy) {
        Trampolines t = boot(strategy);
        ImageFunction zero = kernel.image().functions().get(0);
        assertFalse(zero.isTraceable(), () -> "image function 0 is traceable: " + zero);
        RollbackSkel skel = new RollbackSkel(kernel);
        long[] ids = getIdsAll();
        // Mangle last id to trigger rollback, which needs to do put on get-ed trampolines.
        ids[9] = 0;
        for (KernelException e : skel.attachBothFails(t, ids)) {
            assertEquals(Errno.EINVAL, e.errno(), e::getMessage);
            assertTrue(e.getMessage().contains(zero.name()), e::getMessage);
        }
        assertEquals(0, t.trampolineCount());
        rollbackRun(skel);
        skel.destroy();
        assertNothingAttached(t);
    }

    /**
     * The rollback {@code put} path itself: the tenth {@code bpf_trampoline_get} fails (its
     * allocation is failed by fault injection, the kernel's {@code -ENOMEM}), after nine trampolines
     * were created and taken; all nine must be put and freed.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void rollbackPutAfterGets(FtraceStrategy strategy) {
        Trampolines t = boot(strategy);
        RollbackSkel skel = new RollbackSkel(kernel);
        long[] ids = getIdsAll();
        TracingMultiOpts opts = TracingMultiOpts.create().ids(ids).cnt(ids.length);
        for (BpfProg p : List.of(skel.testFentry, skel.testFexit)) {
            kernel.faults().arm("alloc:bpf_trampoline", FaultSpec.nth(FUNCS_CNT));
            KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(p, null, opts));
            assertEquals(Errno.ENOMEM, e.errno(), e::getMessage);
            assertEquals(1, p.refCount());
            assertEquals(0, t.trampolineCount());
            assertEquals(0, kernel.allocator().snapshot().usage("bpf_trampoline").liveObjects());
        }
        kernel.faults().disarmAll();
        rollbackRun(skel);
        skel.destroy();
        assertNothingAttached(t);
    }

    /**
     * Rollback {@code unlink}: {@code bpf_fentry_test10} already holds {@code BPF_MAX_TRAMP_LINKS}
     * fentry programs ({@code filler}), and {@code bpf_fentry_test1} one ({@code extra}). Linking
     * the multi program into test10's trampoline, the last of the ten, fails with E2BIG (the limit
     * counts fentry and fexit together), after test1..9 were linked inside the same attach; those nine
     * must be unlinked, test1 must get the image running {@code extra} back, and test2..9 must lose
     * their trampolines again. The fillers and {@code extra} keep running.
     */
    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void rollbackUnlink(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        int max = BpfTrampoline.BPF_MAX_TRAMP_LINKS;
        assertEquals(38, max);
        List<BpfProg> fillers = new ArrayList<>();
        List<BpfTracingLink> fillerLinks = new ArrayList<>();
        for (int i = 0; i < max; i++) {
            BpfProg filler = BpfProg.builder(kernel, "filler", BpfAttachType.TRACE_FENTRY).body(c -> 0).load();
            fillers.add(filler);
            fillerLinks.add(t.attach(filler, "bpf_fentry_test10"));
        }
        BpfProg extra = BpfProg.builder(kernel, "extra", BpfAttachType.TRACE_FENTRY).body(c -> 0).load();
        BpfTracingLink extraLink = t.attach(extra, "bpf_fentry_test1");

        RollbackSkel skel = new RollbackSkel(kernel);
        for (KernelException e : skel.attachBothFails(t, getIdsAll())) {
            assertEquals(Errno.E2BIG, e.errno(), e::getMessage);
            assertTrue(e.getMessage().contains("bpf_fentry_test10"), e::getMessage);
        }

        assertEquals(List.of("fentry:extra"),
                t.trampoline(kernel.function("bpf_fentry_test1")).orElseThrow().programOrder());
        assertEquals(max, t.trampoline(kernel.function("bpf_fentry_test10")).orElseThrow().programOrder().size());
        for (int i = 1; i < FUNCS_CNT - 1; i++) {
            Optional<TrampolineInfo> tr = t.trampoline(kernel.function(fentryTest(i)));
            assertTrue(tr.isEmpty(), () -> "left behind: " + tr.get());
        }
        assertEquals(2, t.trampolineCount());

        rollbackRun(skel);
        for (BpfProg filler : fillers) {
            assertEquals(1, filler.stats().runs());
        }
        assertEquals(1, extra.stats().runs());

        for (BpfTracingLink l : fillerLinks) {
            l.close();
        }
        extraLink.close();
        for (BpfProg p : fillers) {
            p.close();
        }
        extra.close();
        skel.destroy();
        assertNothingAttached(t);
    }
}
