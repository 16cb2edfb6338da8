package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same attach, modify and detach steps through the classic API (one ops per function) and the
 * single-ops batch API give the same sites and the same call results; only the costs differ.
 */
class ClassicVsSingleOpsTest {
    private static final KernelImage IMAGE = KernelImage.synthetic(600, 11);
    private static final int N = 512;

    /** Target {@code gen}/{@code id}: the call returns the body's value plus a tag. */
    record Tramp(int gen, int id) implements CallTarget {
        @Override
        public long enter(dev.gtramp.kernel.Frame frame) {
            return frame.callOrigin() + gen * 1_000_000L + id;
        }
    }

    /** The targets of both generations, shared by both kernels so that their sites compare equal. */
    private static final class Targets {
        final List<Tramp> gen1 = new ArrayList<>();
        final List<Tramp> gen2 = new ArrayList<>();

        Targets() {
            for (int i = 0; i < N; i++) {
                gen1.add(new Tramp(1, i));
                gen2.add(new Tramp(2, i));
            }
        }
    }

    private static List<String> observe(Kernel kernel) {
        List<String> out = new ArrayList<>();
        try (Cpu cpu = kernel.bindCpu(0)) {
            for (KernelFunction f : kernel.functions()) {
                if (!f.isTraceable()) {
                    continue;
                }
                Object insn = f.site().read();
                out.add(f.name() + " " + insn + " -> " + cpu.callWith(f, new long[f.argWords()]));
            }
        }
        return out;
    }

    @Test
    void sameSitesDifferentCosts() {
        Targets t = new Targets();
        try (Kernel classic = Kernel.boot(IMAGE); Kernel single = Kernel.boot(IMAGE)) {
            Ftrace fc = Ftrace.of(classic);
            Ftrace fs = Ftrace.of(single);
            List<KernelFunction> cf = classic.functions().stream().filter(KernelFunction::isTraceable).limit(N).toList();
            List<KernelFunction> sf = single.functions().stream().filter(KernelFunction::isTraceable).limit(N).toList();
            List<FtraceOps> opsPerFunction = new ArrayList<>();
            FtraceOps directOps = FtraceOps.staticDirect("direct_ops", null);
            IntFunction<Boolean> modified = i -> i % 2 == 0;
            IntFunction<Boolean> detached = i -> i % 3 == 0;

            for (int i = 0; i < N; i++) {
                FtraceOps ops = FtraceOps.direct("tramp" + i, null);
                fc.setFilterIp(ops, cf.get(i).ip(), false, false);
                fc.registerFtraceDirect(ops, t.gen1.get(i));
                opsPerFunction.add(ops);
            }
            FtraceHash add = fs.allocHashFor(N);
            for (int i = 0; i < N; i++) {
                add.add(sf.get(i).ip(), t.gen1.get(i));
            }
            fs.updateFtraceDirectAdd(directOps, add);
            assertEquals(observe(classic), observe(single));

            FtraceHash mod = fs.allocHashFor(N);
            for (int i = 0; i < N; i++) {
                if (modified.apply(i)) {
                    fc.modifyFtraceDirect(opsPerFunction.get(i), t.gen2.get(i));
                    mod.add(sf.get(i).ip(), t.gen2.get(i));
                }
            }
            FtraceCosts before = fs.costs();
            fs.updateFtraceDirectMod(directOps, mod, true);
            FtraceCosts modCost = fs.costs().minus(before);
            assertEquals(observe(classic), observe(single));
            // Each modified site is patched twice (to the regs caller and on to its new target).
            assertEquals(2L * mod.count(), modCost.get(Cost.SITES_PATCHED), modCost.toString());

            FtraceHash del = fs.allocHashFor(N);
            for (int i = 0; i < N; i++) {
                if (detached.apply(i)) {
                    FtraceOps ops = opsPerFunction.get(i);
                    fc.unregisterFtraceDirect(ops, ops.directCall(), true);
                    del.add(sf.get(i).ip(), fs.findRecDirect(sf.get(i).ip()));
                }
            }
            fs.updateFtraceDirectDel(directOps, del);
            assertEquals(observe(classic), observe(single));
            assertEquals(fc.directFunctionCount(), fs.directFunctionCount());

            FtraceCosts c = fc.costs();
            FtraceCosts s = fs.costs();
            assertTrue(c.get(Cost.CORE_SYNCS) > 10 * s.get(Cost.CORE_SYNCS), c + " vs " + s);
            assertEquals(del.count(), c.get(Cost.GRACE_PERIODS_TASKS), c.toString());
            assertEquals(0, s.get(Cost.GRACE_PERIODS_TASKS), s.toString());
            // Classic: one ops per function, plus the stub ops of each modify; single: the direct
            // ops and the stub of the one batch modify.
            assertEquals(N + mod.count(), c.get(Cost.OPS_REGISTERED), c.toString());
            assertEquals(2, s.get(Cost.OPS_REGISTERED), s.toString());
            for (FtraceHash h : List.of(add, mod, del)) {
                fs.freeHash(h);
            }
        }
    }
}
