package dev.gtramp.trampoline;

import dev.gtramp.kernel.BpfTestRun;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTraceCtx;
import dev.gtramp.kernel.btf.ArgClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The selftests of Menglong Dong's tracing multi-link (the v2 series and github menglongdong/bpf) on
 * the global trampoline, for each md lookup and free protocol: {@code fentry_multi},
 * {@code fexit_multi}, {@code modify_return_multi}, {@code tracing_multi_link}'s {@code attach_api}
 * (cookies), {@code attach_over_multi}, {@code attach_over_fentry} and the prototype-mismatch
 * {@code fentry_fail}/{@code fexit_fail} programs; plus the fallback of a function the global caller
 * cannot serve.
 */
class GlobalTrampolineSelftestTest extends SelftestKernel {

    /**
     * {@code fentry_multi}: the {@code fentry_test} programs as FENTRY_MULTI, each verified against and
     * attached to its own function; every result 1; attaching an attached program again fails.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void fentryMulti(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        FentryFexitSelftestTest.Skel s = FentryFexitSelftestTest.fentrySkel(kernel, true);
        multiCommon(t, s);
        multiCommon(t, s);
        assertNothingAttached(t);
    }

    /** {@code fexit_multi}: the same with the {@code fexit_test} programs, which also check the return values. */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void fexitMulti(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        FentryFexitSelftestTest.Skel s = FentryFexitSelftestTest.fexitSkel(kernel, true);
        multiCommon(t, s);
        multiCommon(t, s);
        assertNothingAttached(t);
    }

    private void multiCommon(Trampolines t, FentryFexitSelftestTest.Skel s) throws Exception {
        s.attach(t);
        for (int i = 0; i < 8; i++) {
            KfuncMdInfo md = t.kfuncMd(kernel.function(FentryFexitSelftestTest.Skel.target(i))).orElseThrow();
            assertEquals(1, md.users());
            assertFalse(md.servedByTrampoline());
        }
        assertEquals(0, t.trampolineCount(), "the global caller serves every function");
        TracingMultiOpts again = TracingMultiOpts.create().names(List.of("bpf_fentry_test1"));
        KernelException e = assertThrows(KernelException.class, () -> t.attachMulti(s.progs.get(0), null, again));
        assertEquals(Errno.EEXIST, e.errno());
        assertTrue(e.getMessage().contains("bpf_fentry_test1"), e.getMessage());
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, BpfTestRun.fentryFexit(cpu));
        }
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1}, s.bss);
        s.detach();
        Arrays.fill(s.bss, 0);
    }

    /**
     * {@code serial_test_modify_return_multi}: fentry, fmod_ret and fexit programs as multi on
     * {@code bpf_modify_return_test} alone. With {@code input_retval = 0} both bodies run (4 + 29);
     * with {@code -EINVAL} the first is skipped (no side effect, -22) and the second runs (29).
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void modifyReturnMulti(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        runModifyReturnMulti(t, 0, 2, (short) 33);
        runModifyReturnMulti(t, -Errno.EINVAL.code(), 1, (short) (-Errno.EINVAL.code() + 29));
    }

    private void runModifyReturnMulti(Trampolines t, int inputRetval, int wantSideEffect, short wantRet)
            throws Exception {
        ModifyReturnSelftestTest.Skel skel = new ModifyReturnSelftestTest.Skel(kernel, true);
        skel.inputRetval = inputRetval;
        skel.attach(t);
        KfuncMdInfo md = t.kfuncMd(kernel.function("bpf_modify_return_test")).orElseThrow();
        assertEquals(List.of("fentry:fentry_test", "fmod_ret:fmod_ret_test", "fexit:fexit_test"), md.programs());
        assertEquals(3, md.users());
        assertTrue(md.originCall());
        int retval;
        try (Cpu cpu = kernel.bindCpu(0)) {
            retval = BpfTestRun.modifyReturn(cpu);
        }
        assertEquals(wantRet, (short) (retval & 0xffff), "ret");
        assertEquals(wantSideEffect, (retval >>> 16) & 0xffff, "side_effect");
        assertArrayEquals(new long[] {1, 1, 1}, skel.result[0], "fentry_result, fmod_ret_result, fexit_result");
        assertEquals(3, skel.sequence[0]);
        skel.destroy();
        assertNothingAttached(t);
    }

    /**
     * {@code tracing_multi_link}'s {@code attach_api}: one fentry.multi program on
     * {@code bpf_fentry_test1..8} with cookies {@code {1, 7, 2, 3, 4, 5, 6, 8}}; on each call the
     * program sees the function's own address from {@code bpf_get_func_ip} and its own cookie.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void attachApiCookies(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        long[] cookies = {1, 7, 2, 3, 4, 5, 6, 8};
        long[] ips = new long[8];
        List<String> syms = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            syms.add("bpf_fentry_test" + (i + 1));
            ips[i] = kernel.function(syms.get(i)).ip();
        }
        long[] result = new long[8];
        BpfProg prog = BpfProg.builder(kernel, "fentry_cookie_test1", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> {
            for (int i = 0; i < 8; i++) {
                if (c.getFuncIp() == ips[i] && c.getAttachCookie() == cookies[i]) {
                    result[i]++;
                }
            }
            return 0;
        }).load();
        try (BpfTracingMultiLink link = t.attachMulti(prog, null, TracingMultiOpts.create().names(syms).cookies(cookies))) {
            assertArrayEquals(cookies, link.cookies());
            assertEquals(List.of(1L), t.kfuncMd(kernel.function("bpf_fentry_test1")).orElseThrow().cookies());
            try (Cpu cpu = kernel.bindCpu(0)) {
                assertEquals(0, BpfTestRun.fentryFexit(cpu));
            }
        }
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1}, result);
        prog.close();
        assertNothingAttached(t);
    }

    // ------------------------------------------------------------------ mixing

    /** {@code progs/tracing_multi_mix.c}: a fentry.multi and a fentry program that count calls seeing {@code arg0 == 1}. */
    private static final class MixSkel {
        final long[] multiResult = {0};
        final long[] fentryResult = {0};
        final BpfProg multi;
        final BpfProg fentry;

        MixSkel(dev.gtramp.kernel.Kernel k) {
            multi = BpfProg.builder(k, "fentry_multi_mix", BpfAttachType.TRACE_FENTRY_MULTI)
                    .body(c -> count(c, multiResult)).load();
            fentry = BpfProg.builder(k, "fentry_mix", BpfAttachType.TRACE_FENTRY).readsArgs(1)
                    .body(c -> count(c, fentryResult)).load();
        }

        private static long count(BpfTraceCtx c, long[] result) {
            long[] v = {0};
            if (c.getFuncArg(0, v) == 0 && (int) v[0] == 1) {
                result[0]++;
            }
            return 0;
        }
    }

    private long runTest1() {
        try (Cpu cpu = kernel.bindCpu(0)) {
            return cpu.call("bpf_fentry_test1", 1);
        }
    }

    /**
     * {@code attach_over_multi}: fentry.multi first, then a plain fentry on {@code bpf_fentry_test1}.
     * The trampoline takes the function over with both programs (the multi one as a shim); each runs
     * once per call. When the fentry link goes, the function goes back to the global caller.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void attachOverMulti(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        MixSkel s = new MixSkel(kernel);
        KernelFunction f = kernel.function("bpf_fentry_test1");
        BpfTracingMultiLink multi = t.attachMulti(s.multi, "bpf_fentry_test1", null);
        assertEquals(2, runTest1());
        assertEquals(1, s.multiResult[0]);
        assertEquals(t.globalCaller(), t.ftrace().findRecDirect(f.ip()));

        BpfTracingLink fentry = t.attach(s.fentry, f);
        assertTrue(t.kfuncMd(f).orElseThrow().servedByTrampoline());
        assertEquals(List.of("fentry:fentry_mix", "fentry:fentry_multi_mix"), t.trampoline(f).orElseThrow().programOrder());
        assertEquals(1, t.ftrace().directFunctionCount(), "the entry moved, it was not added");
        assertEquals(2, runTest1());
        assertEquals(2, s.multiResult[0]);
        assertEquals(1, s.fentryResult[0]);

        fentry.close();
        assertFalse(t.kfuncMd(f).orElseThrow().servedByTrampoline());
        assertEquals(t.globalCaller(), t.ftrace().findRecDirect(f.ip()));
        assertEquals(2, runTest1());
        assertEquals(3, s.multiResult[0]);
        assertEquals(1, s.fentryResult[0]);
        multi.close();
        assertEquals(2, runTest1());
        assertEquals(3, s.multiResult[0]);
        s.multi.close();
        s.fentry.close();
        assertNothingAttached(t);
    }

    /**
     * {@code attach_over_fentry}: a plain fentry first, then fentry.multi on the same function. The
     * multi program joins the trampoline as a shim; when the fentry link goes, the function moves to
     * the global caller; when the multi link goes, it is detached.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void attachOverFentry(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        MixSkel s = new MixSkel(kernel);
        KernelFunction f = kernel.function("bpf_fentry_test1");
        BpfTracingLink fentry = t.attach(s.fentry, f);
        BpfTracingMultiLink multi = t.attachMulti(s.multi, null, TracingMultiOpts.create().names(List.of("bpf_fentry_test1")));
        assertTrue(multi.fallbacks().isEmpty(), "a mix is not a fallback");
        assertTrue(t.kfuncMd(f).orElseThrow().servedByTrampoline());
        assertEquals(2, runTest1());
        assertEquals(1, s.multiResult[0]);
        assertEquals(1, s.fentryResult[0]);

        fentry.close();
        assertEquals(t.globalCaller(), t.ftrace().findRecDirect(f.ip()));
        assertEquals(0, t.trampolineCount());
        assertEquals(2, runTest1());
        assertEquals(2, s.multiResult[0]);
        assertEquals(1, s.fentryResult[0]);
        multi.close();
        s.multi.close();
        s.fentry.close();
        assertNothingAttached(t);
    }

    /** The reverse detach order of {@code attach_over_fentry}: the multi link goes first; the trampoline is plain again. */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void multiDetachedFirst(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        MixSkel s = new MixSkel(kernel);
        KernelFunction f = kernel.function("bpf_fentry_test1");
        BpfTracingMultiLink multi = t.attachMulti(s.multi, "bpf_fentry_test1", null);
        BpfTracingLink fentry = t.attach(s.fentry, f);
        multi.close();
        assertTrue(t.kfuncMd(f).isEmpty());
        assertEquals(List.of("fentry:fentry_mix"), t.trampoline(f).orElseThrow().programOrder());
        assertEquals(2, runTest1());
        assertEquals(1, s.fentryResult[0]);
        assertEquals(0, s.multiResult[0]);
        fentry.close();
        s.multi.close();
        s.fentry.close();
        assertNothingAttached(t);
    }

    // ------------------------------------------------------------------ fallbacks

    /**
     * A function with seven argument registers ({@code bpf_modify_return_test2}: one on the stack) is
     * served by its trampoline with the multi program as a shim, and the link reports it; the other
     * function is served by the global caller. Both run the program.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void stackArgumentsFallBackToTrampoline(TrampolinesConfig config) throws Exception {
        Trampolines t = boot(config);
        long[] ips = {0};
        long[] calls = {0};
        BpfProg prog = BpfProg.builder(kernel, "count", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> {
            long[] n = {0};
            ips[0] ^= c.getFuncIp();
            calls[0] += c.getFuncArgCnt() == 7 || c.getFuncArgCnt() == 2 ? 1 : 0;
            return c.getFuncRet(n);
        }).load();
        KernelFunction test = kernel.function("bpf_modify_return_test");
        KernelFunction test2 = kernel.function("bpf_modify_return_test2");
        try (BpfTracingMultiLink link = t.attachMulti(prog, "bpf_modify_return_test*", null)) {
            assertEquals(1, link.fallbacks().size(), () -> link.fallbacks().toString());
            MultiLinkFallback fb = link.fallbacks().get(0);
            assertEquals("bpf_modify_return_test2", fb.function());
            assertTrue(fb.reason().contains("7 argument registers"), fb.reason());
            assertTrue(t.kfuncMd(test2).orElseThrow().servedByTrampoline());
            assertFalse(t.kfuncMd(test).orElseThrow().servedByTrampoline());
            assertEquals(List.of("fexit:count"), t.trampoline(test2).orElseThrow().programOrder());
            assertEquals(t.globalCaller(), t.ftrace().findRecDirect(test.ip()));
            try (Cpu cpu = kernel.bindCpu(0)) {
                assertEquals(0x0002_0021, BpfTestRun.modifyReturn(cpu));
            }
            assertEquals(2, calls[0]);
            assertEquals(test.ip() ^ test2.ip(), ips[0]);
        }
        prog.close();
        assertNothingAttached(t);
    }

    // ------------------------------------------------------------------ prototype mismatches

    /**
     * {@code fentry_fail_test}/{@code fexit_fail_test}: a typed multi program is verified against its
     * first target; a target whose accessed arguments or return value differ in class, size or
     * position fails with EINVAL naming it, and nothing stays attached.
     */
    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void prototypeMismatchFails(TrampolinesConfig config) {
        Trampolines t = boot(config);
        // int bpf_fentry_test1(int a) against bpf_fentry_test4(void *a, ...): int vs pointer.
        BpfProg readsInt = BpfProg.builder(kernel, "fentry_fail_test2", BpfAttachType.TRACE_FENTRY_MULTI)
                .attachBtfId("bpf_fentry_test1").readsArgs(1).body(c -> 0).load();
        assertRefused(t, readsInt, List.of("bpf_fentry_test1", "bpf_fentry_test4"), "bpf_fentry_test4", "argument 0");
        // The same target twice.
        assertRefused(t, readsInt, List.of("bpf_fentry_test1", "bpf_fentry_test1"), "bpf_fentry_test1", "given twice");
        // fexit reading the return value at ctx[1]: bpf_fentry_test2 has it at ctx[2].
        BpfProg readsRet = BpfProg.builder(kernel, "fexit_fail_test1", BpfAttachType.TRACE_FEXIT_MULTI)
                .attachBtfId("bpf_fentry_test1").readsArgs(1).readsReturn().body(c -> 0).load();
        assertRefused(t, readsRet, List.of("bpf_fentry_test1", "bpf_fentry_test2"), "bpf_fentry_test2", "ctx[1]");
        // A target that returns a pointer where the first returns int.
        KernelFunction ptrRet = kernel.functions().stream()
                .filter(f -> f.isTraceable() && f.prototype().isBpfSupported() && f.prototype().argRegs() == 1
                        && f.prototype().params().get(0).argClass() == ArgClass.INT
                        && f.prototype().params().get(0).size() == 4
                        && f.prototype().returnClass() == ArgClass.PTR)
                .findFirst().orElseThrow();
        assertRefused(t, readsRet, List.of("bpf_fentry_test1", ptrRet.name()), ptrRet.name(), "returns");
        // A struct passed by value shifts the registers: the first target reads two int words.
        KernelFunction structArg = kernel.functions().stream()
                .filter(f -> f.isTraceable() && f.prototype().isBpfSupported()
                        && f.prototype().params().size() >= 1
                        && f.prototype().params().get(0).argClass() == ArgClass.STRUCT
                        && f.prototype().params().get(0).size() > 8)
                .findFirst().orElseThrow();
        BpfProg readsTwo = BpfProg.builder(kernel, "fentry_fail_test5", BpfAttachType.TRACE_FENTRY_MULTI)
                .attachBtfId("bpf_fentry_test2").readsArgs(2).body(c -> 0).load();
        assertRefused(t, readsTwo, List.of("bpf_fentry_test2", structArg.name()), structArg.name(), "argument 0");
        // The record against the first target itself fails at load.
        KernelException load = assertThrows(KernelException.class, () -> BpfProg.builder(kernel, "too_many",
                BpfAttachType.TRACE_FENTRY_MULTI).attachBtfId("bpf_fentry_test1").readsArgs(2).body(c -> 0).load());
        assertEquals(Errno.EINVAL, load.errno());
        assertTrue(load.getMessage().contains("bpf_fentry_test1"), load.getMessage());
        assertNothingAttached(t);
    }

    private static void assertRefused(Trampolines t, BpfProg prog, List<String> targets, String culprit, String what) {
        KernelException e = assertThrows(KernelException.class,
                () -> t.attachMulti(prog, null, TracingMultiOpts.create().names(targets)));
        assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(culprit) && e.getMessage().contains(what), e.getMessage());
        assertEquals(1, prog.refCount(), "a refused attach keeps no reference");
        assertEquals(0, t.kfuncMdCount());
    }
}
