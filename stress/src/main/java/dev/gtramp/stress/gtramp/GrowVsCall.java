package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Md array growth racing calls: a call finds its md in the old array or the new one, never
 * none.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the writer is done, calls:        wait for cpu 0's calls
 *     p = 0                                 attach g's tracing multi link: g's md needs slot
 *     f()                                     42 of a 42-slot array: grow to 84 (copy the
 *       bpf_global_caller:                    slots, publish the new array, call_rcu(free
 *         kfunc_md_get_rcu: mov $41,          the old one)), mov $42 into g's padding
 *           rcu_dereference(kfunc_mds)[41]  run the callbacks: a grace period, then the
 *         fentry programs: P (p++)            old array's free
 *     check p == 1                          wait for two more calls of cpu 0
 *                                           arbiter: run the callbacks left; KASAN?
 * </pre>
 *
 * As in {@link GrowVsInterruptedFind}, the first md array's 42 slots are in use, {@code f}'s (with a
 * fentry.multi program P) the last of them, the last one the growth copies; here CPU 0 calls
 * {@code f} back to back while the writer attaches one more function, whose md grows the array, then
 * runs the callbacks that free the old array.
 *
 * <p>The hazard: a call loads whichever array is published, the old one or the new one. Growth
 * fills the new array before it publishes it, so a call that loads it finds {@code f}'s md in slot
 * 41; the old array is freed after a grace period, so a call that loaded it finds the md there. A
 * growth that publishes the new array first and copies afterwards lets a call load it while slot 41
 * is still empty: that call finds no md and runs no program, though {@code f}'s md was published
 * throughout.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran P once, at least one while the writer
 * was attaching {@code g}; 5 every call ran P once, none during the attach; 1 a call ran no P (found
 * no md); 2 a call read freed memory; 3 a call failed otherwise or ran P twice; 4 the writer did not
 * finish in time; {@code r2}: 0 the array grew and KASAN reported nothing by the end of the trial,
 * 1 KASAN reported something, 2 the array did not grow.
 * <ul>
 *   <li>{@code 0, 0}: calls raced the growth and each found its md;</li>
 *   <li>{@code 5, 0}: no call overlapped the attach (the race did not happen);</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call found no md in the array it loaded;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link PaddingMdArrayPublishBeforeCopyBroken}, which must show {@code 1, 0}.
 */
@Description("md array growth racing calls: each call finds its md in the old or the new array")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "calls raced the growth and each ran P once")
@Outcome(id = "5, 0", expect = ACCEPTABLE, desc = "each call ran P once; none overlapped the growth")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call found no md: the new array was published before the copy")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a use after free, a fault, a stray KASAN report, or a stuck writer")
public abstract class GrowVsCall extends GlobalTrial {
    private static final long BODY = 7;

    private final KernelFunction g;
    /** Runs of P in the current call; written and read by CPU 0 only. */
    private int p;
    /** Whether a call overlapped the attach of g; CPU 0's only. */
    private boolean overlapped;
    /** 1 while the writer attaches g, 2 after; volatile, so CPU 0 can tell a call overlapped it. */
    private volatile int phase;
    /** CPU 0's calls so far; volatile for the writer, which waits for two calls after the growth. */
    private volatile long calls;
    /** Set by CPU 0 when a call went wrong and it stops calling, so the writer waits no more. */
    private volatile boolean stopped;
    /** g's slot, written by the writer before the arbiter runs. */
    private volatile int gSlot = -1;

    GrowVsCall(Set<UnsafeVariant> unsafe) {
        super(MdArrayFill.IMAGE, unsafe, RcuFlavor.QSBR, TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        List<KernelFunction> others = MdArrayFill.others(kernel, f);
        g = others.get(others.size() - 1);
        f.setBody(frame -> BODY);
        attachMulti(prog("fill", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0), others.subList(0, others.size() - 1));
        attachMulti(prog("grow_f", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            p++;
            return 0;
        }), List.of(f));
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until the writer is done. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            int verdict = callWhileUpdating(() -> {
                int v = once(cpu);
                stopped = v != 0;
                return v;
            }, 4);
            r.r1 = verdict == 0 && !overlapped ? 5 : verdict;
        }
    }

    private int once(Cpu cpu) {
        p = 0;
        int before = phase;
        long v = callOnce(cpu);
        calls = calls + 1; // CPU 0 is the only writer
        if (before == 1 || (before == 0 && phase != 0)) {
            overlapped = true;
        }
        if (v == FREED) {
            return 2;
        }
        if (v != BODY || p > 1) {
            return 3;
        }
        return p == 0 ? 1 : 0;
    }

    /** The writer: attaches g, whose md grows the array, then frees the old array, while CPU 0 calls. */
    final void write() {
        updateWhileCalling(() -> {
            phase = 1;
            attachMulti(prog("grow_g", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0), List.of(g));
            phase = 2;
            gSlot = MdArrayFill.slot(g);
            settle();
            long c = calls;
            await(() -> calls >= c + 2 || stopped);
        });
    }

    final void check(II_Result r) {
        int kasan = finish();
        r.r2 = kasan != 0 ? 1 : gSlot < MdArrayFill.FIRST_ARRAY_SLOTS ? 2 : 0;
        if (residue(r, "0, 0", "5, 0")) {
            r.r2 = Residue.VALUE;
        }
    }
}
