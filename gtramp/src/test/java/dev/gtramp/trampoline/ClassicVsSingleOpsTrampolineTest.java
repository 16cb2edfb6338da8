package dev.gtramp.trampoline;

import dev.gtramp.ftrace.Cost;
import dev.gtramp.ftrace.FtraceCosts;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The same attach and detach steps on the same functions, on a kernel whose trampolines use one
 * ftrace_ops each and on one whose trampolines share the single direct ops: every call behaves the
 * same, while the ftrace work differs as the two designs say.
 */
class ClassicVsSingleOpsTrampolineTest {
    private static final KernelImage IMAGE = KernelImage.synthetic(600, 11);
    private static final int N = 128;

    /** What calls saw and what each phase cost. */
    record Run(List<String> calls, List<FtraceCosts> phases) {
    }

    private static Run run(FtraceStrategy strategy) throws Exception {
        try (Kernel k = Kernel.boot(IMAGE)) {
            Trampolines t = Trampolines.create(k, strategy);
            List<KernelFunction> fns = new ArrayList<>();
            for (KernelFunction f : k.functions()) {
                if (f.isTraceable() && fns.size() < 2 * N) {
                    fns.add(f);
                }
            }
            long[] fentryRuns = new long[k.functions().size()];
            long[] fexitCookie = new long[k.functions().size()];
            BpfProg fentry = BpfProg.builder(k, "p", BpfAttachType.TRACE_FENTRY)
                    .body(c -> ++fentryRuns[c.kernel().functionAt(c.getFuncIp()).imageFunction().index()]).load();
            BpfProg fexit = BpfProg.builder(k, "q", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> {
                fexitCookie[c.kernel().functionAt(c.getFuncIp()).imageFunction().index()] = c.getAttachCookie();
                return 0;
            }).load();
            List<String> calls = new ArrayList<>();
            List<FtraceCosts> phases = new ArrayList<>();
            FtraceCosts before = t.ftrace().costs();

            List<BpfTracingLink> singles = new ArrayList<>();
            for (KernelFunction f : fns.subList(0, N)) {
                singles.add(t.attach(fentry, f));
            }
            before = phase(t, before, phases);
            long[] ids = new long[2 * N];
            long[] cookies = new long[2 * N];
            for (int i = 0; i < 2 * N; i++) {
                ids[i] = fns.get(i).imageFunction().index();
                cookies[i] = 1000 + i;
            }
            BpfTracingMultiLink multi = t.attachMulti(fexit, null, TracingMultiOpts.create().ids(ids).cookies(cookies));
            before = phase(t, before, phases);
            observe(k, fns, fentryRuns, fexitCookie, calls);
            multi.close();
            before = phase(t, before, phases);
            observe(k, fns, fentryRuns, fexitCookie, calls);
            for (BpfTracingLink l : singles) {
                l.close();
            }
            phase(t, before, phases);
            observe(k, fns, fentryRuns, fexitCookie, calls);
            FentryFexitSelftestTest.assertNothingAttached(t);
            return new Run(calls, phases);
        }
    }

    private static FtraceCosts phase(Trampolines t, FtraceCosts before, List<FtraceCosts> phases) {
        FtraceCosts now = t.ftrace().costs();
        phases.add(now.minus(before));
        return now;
    }

    private static void observe(Kernel k, List<KernelFunction> fns, long[] fentryRuns, long[] fexitCookie,
                                List<String> out) {
        try (Cpu cpu = k.bindCpu(0)) {
            for (KernelFunction f : fns) {
                int i = f.imageFunction().index();
                fexitCookie[i] = -1;
                long ret = cpu.callWith(f, new long[f.argWords()]);
                out.add(f.name() + " ret " + ret + " fentry " + fentryRuns[i] + " fexit cookie " + fexitCookie[i]);
            }
        }
    }

    @Test
    void sameCallsDifferentFtraceWork() throws Exception {
        Run classic = run(FtraceStrategy.CLASSIC);
        Run single = run(FtraceStrategy.SINGLE_OPS);
        assertEquals(classic.calls, single.calls);
        // The calls saw the programs: fentry on the first N, the multi link's cookies on all 2N.
        assertEquals("fentry 1 fexit cookie 1000", classic.calls.get(0).replaceFirst(".* ret -?\\d+ ", ""));
        assertEquals("fentry 0 fexit cookie " + (1000 + N), classic.calls.get(N).replaceFirst(".* ret -?\\d+ ", ""));
        assertEquals("fentry 2 fexit cookie -1", classic.calls.get(2 * N).replaceFirst(".* ret -?\\d+ ", ""));

        FtraceCosts cAttach = classic.phases.get(0);
        FtraceCosts sAttach = single.phases.get(0);
        // Classic: one ops registered per trampoline; single ops: the shared direct_ops once.
        assertEquals(N, cAttach.get(Cost.OPS_REGISTERED));
        assertEquals(1, sAttach.get(Cost.OPS_REGISTERED));
        // The multi link on N new and N existing trampolines patches the same 3N sites either way
        // (N NOPs become calls; N calls are re-pointed through the list function and back)...
        FtraceCosts cMulti = classic.phases.get(1);
        FtraceCosts sMulti = single.phases.get(1);
        assertEquals(3 * N, cMulti.get(Cost.SITES_PATCHED));
        assertEquals(3 * N, sMulti.get(Cost.SITES_PATCHED));
        // ...but classic registers N ops plus a stub ops per modified function, one batch per site
        // change, while single ops makes one add (one ops update) and one mod (one stub ops).
        assertEquals(2 * N, cMulti.get(Cost.OPS_REGISTERED));
        assertEquals(3 * N, cMulti.get(Cost.POKE_BATCHES));
        assertEquals(1, sMulti.get(Cost.OPS_UPDATED));
        assertEquals(1, sMulti.get(Cost.OPS_REGISTERED));
        assertEquals(7, sMulti.get(Cost.POKE_BATCHES));
        // Detaching: every classic ops shutdown waits for tasks RCU; the static direct_ops waits for none.
        FtraceCosts cDetach = classic.phases.get(3);
        FtraceCosts sDetach = single.phases.get(3);
        assertEquals(N, cDetach.get(Cost.OPS_UNREGISTERED));
        assertEquals(N, cDetach.get(Cost.GRACE_PERIODS_TASKS));
        assertEquals(0, sDetach.get(Cost.GRACE_PERIODS_TASKS));
    }
}
