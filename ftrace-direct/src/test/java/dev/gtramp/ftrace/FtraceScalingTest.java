package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.text.TextPoker;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attaching many functions of the real 6.18 image: the classic API (one dynamically allocated ops
 * and one {@code register_ftrace_direct} per function) against one {@code update_ftrace_direct_add}
 * on the single static ops. Both end with the same sites; the counters show what each costs, and the
 * expected values are derived from the kernel's algorithm, not measured.
 *
 * <p>The single ops attach 50,000 functions. The classic API's cost is quadratic (each registration
 * copies all of {@code direct_functions}), so its counts, formulae in N, are checked at
 * {@link #N_CLASSIC}; the study ({@code gtramp study}) measures it at full scale.
 */
class FtraceScalingTest {
    static final int N = 50_000;
    /** Functions the classic test registers one by one. */
    static final int N_CLASSIC = 2_000;
    /** ftrace_update_ftrace_func patches ftrace_call and ftrace_regs_call: two single-site batches. */
    static final int SYNCS_PER_FUNC_UPDATE = 2 * 3;

    record Tramp(int id) implements CallTarget {
        @Override
        public long enter(dev.gtramp.kernel.Frame frame) {
            return frame.callOrigin();
        }
    }

    private static List<DynFtrace> firstRecords(Ftrace ftrace, Kernel kernel, int n) {
        List<DynFtrace> out = new ArrayList<>(n);
        for (KernelFunction f : kernel.functions()) {
            if (out.size() == n) {
                break;
            }
            ftrace.record(f.ip()).filter(r -> r.function() == f).ifPresent(out::add);
        }
        return out;
    }

    @Test
    void singleOpsAttachesFiftyThousandInOneBatchSequence() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            Ftrace ftrace = Ftrace.of(kernel);
            List<DynFtrace> recs = firstRecords(ftrace, kernel, N);
            assertEquals(N, recs.size());
            FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
            FtraceHash hash = ftrace.allocHashFor(N);
            for (int i = 0; i < N; i++) {
                hash.add(recs.get(i).ip(), new Tramp(i));
            }
            FtraceCosts before = ftrace.costs();
            ftrace.updateFtraceDirectAdd(ops, hash);
            FtraceCosts add = ftrace.costs().minus(before);
            int batches = (N + TextPoker.TEXT_POKE_ARRAY_MAX - 1) / TextPoker.TEXT_POKE_ARRAY_MAX;
            assertEquals(N, add.get(Cost.SITES_PATCHED), add.toString());
            // The trace function goes stub -> list func -> call_direct_funcs (one static ops).
            assertEquals(batches + 4, add.get(Cost.POKE_BATCHES), add.toString());
            assertEquals(3L * batches + 2 * SYNCS_PER_FUNC_UPDATE, add.get(Cost.CORE_SYNCS), add.toString());
            assertEquals(3L * N, add.get(Cost.TEXT_POKES) - 4 * 3, add.toString());
            assertEquals(1, add.get(Cost.OPS_REGISTERED));
            assertEquals(0, add.get(Cost.GRACE_PERIODS_TASKS) + add.get(Cost.GRACE_PERIODS_TASKS_RUDE) + add.get(Cost.GRACE_PERIODS_RCU));
            assertEquals(N, add.get(Cost.RECORD_UPDATES));
            // hash_add of the batch into the ops' filter hash and into direct_functions, both empty.
            assertEquals(2L * N, add.get(Cost.HASH_ENTRIES_COPIED), add.toString());
            for (int i = 0; i < N; i += 997) {
                assertSame(hash.findDirect(recs.get(i).ip()), recs.get(i).site().read());
            }
            before = ftrace.costs();
            ftrace.updateFtraceDirectDel(ops, hash);
            FtraceCosts del = ftrace.costs().minus(before);
            assertEquals(N, del.get(Cost.SITES_PATCHED), del.toString());
            assertEquals(0, del.get(Cost.GRACE_PERIODS_TASKS) + del.get(Cost.GRACE_PERIODS_TASKS_RUDE), "static ops: " + del);
            assertEquals(1, del.get(Cost.CALL_RCU_TASKS), del.toString());
            assertTrue(ftrace.enabledRecords().isEmpty());
            ftrace.freeHash(hash);
        }
    }

    @Test
    void classicAttachCostsGrowWithN() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            Ftrace ftrace = Ftrace.of(kernel);
            List<DynFtrace> recs = firstRecords(ftrace, kernel, N_CLASSIC);
            List<FtraceOps> all = new ArrayList<>(N_CLASSIC);
            FtraceCosts before = ftrace.costs();
            long t0 = System.nanoTime();
            for (int i = 0; i < N_CLASSIC; i++) {
                FtraceOps ops = FtraceOps.direct("tramp" + i, null);
                ftrace.setFilterIp(ops, recs.get(i).ip(), false, false);
                ftrace.registerFtraceDirect(ops, new Tramp(i));
                all.add(ops);
            }
            FtraceCosts reg = ftrace.costs().minus(before);
            long t1 = System.nanoTime();
            System.out.printf("classic %d: register %.1f s%n", N_CLASSIC, (t1 - t0) / 1e9);
            assertEquals(N_CLASSIC, reg.get(Cost.SITES_PATCHED), reg.toString());
            assertEquals(N_CLASSIC, reg.get(Cost.OPS_REGISTERED));
            // One batch per registration, and the trace function moves to the list func once.
            assertEquals(3L * N_CLASSIC + SYNCS_PER_FUNC_UPDATE, reg.get(Cost.CORE_SYNCS), reg.toString());
            assertEquals(N_CLASSIC - 1, reg.get(Cost.CALL_RCU_TASKS), reg.toString());
            // register_ftrace_direct copies all of direct_functions each time: N(N-1)/2 + N entries;
            // each ftrace_set_filter_ip moves its one-entry hash into the ops: N more.
            long n = N_CLASSIC;
            assertEquals(n * (n - 1) / 2 + n + n, reg.get(Cost.HASH_ENTRIES_COPIED), reg.toString());
            before = ftrace.costs();
            for (int i = 0; i < N_CLASSIC; i++) {
                FtraceOps ops = all.get(i);
                ftrace.unregisterFtraceDirect(ops, ops.directCall(), true);
            }
            FtraceCosts unreg = ftrace.costs().minus(before);
            long t2 = System.nanoTime();
            assertEquals(N_CLASSIC, unreg.get(Cost.GRACE_PERIODS_TASKS), unreg.toString());
            assertEquals(N_CLASSIC, unreg.get(Cost.GRACE_PERIODS_TASKS_RUDE), unreg.toString());
            assertEquals(N_CLASSIC, unreg.get(Cost.SITES_PATCHED), unreg.toString());
            assertTrue(ftrace.enabledRecords().isEmpty());
            assertEquals(0, ftrace.directFunctionCount());
            System.out.printf("classic %d: register %.1f s, unregister %.1f s, %s / %s%n", N_CLASSIC,
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, reg, unreg);
        }
    }
}
