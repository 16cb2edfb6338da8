package dev.gtramp.stress;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.mm.MemorySnapshot;
import dev.gtramp.kernel.rcu.Rcu;
import dev.gtramp.kernel.rcu.RcuStats;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * What a trial's kernel left behind: the arbiters' check that a trial ended clean, besides KASAN.
 * A baseline is taken at the end of the trial's setup ({@link #of}); after the arbiter has run
 * every callback left and closed the kernel, {@link #find} lists what is still there. A trial with
 * residue is reported with {@link #VALUE} in one column of its outcome, graded FORBIDDEN, but only
 * when the outcome is otherwise one the test accepts ({@link #accepted}): a trial that already went
 * wrong keeps the outcome that says how, so a broken twin's documented outcome is never masked.
 *
 * <p>Residue is:
 * <ul>
 *   <li><b>live objects that grew</b>: a type of the allocator with more live objects than at the
 *       baseline (as {@link MemorySnapshot#leaksSince} counts); per-CPU variables are objects of type
 *       {@code percpu}. Objects the setup made are in the baseline, so what the test itself keeps
 *       (its loaded programs, the links and ftrace entries of the setup) is not residue. What a
 *       trial's updates legitimately keep (a link or a program the writer made) is released before
 *       the check rather than excused: the trampoline arbiters close every link the writer opened
 *       and drop every program it loaded ({@code KernelTrial.finish}), the ftrace arbiters delete
 *       every direct entry and unregister every ops ({@code FtraceTrial.finish}), then every
 *       callback runs, so whatever those held must be freed by then. Excused, as the kernel's own
 *       state: ftrace's {@code direct_functions} hash, which the first update allocates and every
 *       later one replaces, and which stays allocated, empty, after the last entry is deleted
 *       ({@link #resident}). The growth is net, by type: a trial that frees baseline objects of a
 *       type (a writer that closes a setup's link) could hide a leak of that type behind them;
 *       the trampoline arbiters therefore also count mds, trampolines, patched sites and direct
 *       entries.</li>
 *   <li><b>anything still retiring</b>: an RCU domain whose callbacks queued outnumber those run
 *       ({@code rcu_barrier} and the kernel's close run every chain, so none may be pending or in
 *       flight), and what a caller adds with {@link #require}, e.g. {@code kfunc_md}s or trampoline
 *       images put and not yet freed, ftrace sites still patched or direct entries left.</li>
 *   <li><b>kernel log lines at WARNING or ERR</b> written since the baseline, except
 *       <ul>
 *         <li>RCU stall warnings ({@code "rcu"}, "detected stall"): the trial domains time stalls
 *             out after 1 ns on purpose ({@link TrialDomain#STALL_TIMEOUT}), so a warning is a
 *             grace period that waited for a reader, the race the test provokes, not a fault;</li>
 *         <li>lines the test provokes and declares ({@link #expectLog}), e.g. the
 *             {@code ftrace_bug} of a fault it injects.</li>
 *       </ul>
 *       KASAN reports are logged too; where a test reports them in a column of their own, that
 *       column says so first, and a trial that has them is not otherwise acceptable.</li>
 * </ul>
 * Objects freed only by a later grace period are not residue by mistake: the check runs after
 * every callback has run (the arbiters' barriers and the kernel's close).
 */
public final class Residue {
    /** The outcome value of a trial that was otherwise acceptable and left residue. */
    public static final int VALUE = 9;

    private final Allocator allocator;
    private final MemorySnapshot before;
    private final KernelLog log;
    private final long logBefore;
    private final List<Rcu> domains;
    private final List<Predicate<KernelLog.Entry>> expected = new ArrayList<>();
    private final List<String> required = new ArrayList<>();
    private final List<String> residentTypes = new ArrayList<>();
    private final List<LongSupplier> residentCounts = new ArrayList<>();
    private final List<Long> residentBefore = new ArrayList<>();

    private Residue(Allocator allocator, KernelLog log, List<Rcu> domains) {
        this.allocator = allocator;
        this.before = allocator == null ? null : allocator.snapshot();
        this.log = log;
        this.logBefore = log.written();
        this.domains = List.copyOf(domains);
    }

    /** A baseline of {@code kernel}: its allocator, its log, its RCU and tasks-RCU domains. */
    public static Residue of(Kernel kernel) {
        return new Residue(kernel.allocator(), kernel.log(), List.of(kernel.rcu(), kernel.tasksRcu()));
    }

    /** A baseline of a trial domain and the allocator of its per-CPU arena (or null for none). */
    public static Residue of(TrialDomain domain, Allocator allocator) {
        return new Residue(allocator, domain.log(), List.of(domain.rcu()));
    }

    /**
     * {@code count} objects of {@code type} are the kernel's own state, not residue: the type's
     * growth is measured net of their change since now. For objects a kernel allocates once, on
     * first use, and keeps, such as ftrace's {@code direct_functions} hash ({@link #ofFtrace}).
     */
    public Residue resident(String type, LongSupplier count) {
        residentTypes.add(type);
        residentCounts.add(count);
        residentBefore.add(count.getAsLong());
        return this;
    }

    /** {@link #resident}: ftrace's {@code direct_functions}, once the first update gave it a hash of its own. */
    public Residue ofFtrace(Ftrace ftrace) {
        return resident(FTRACE_HASH, () -> ftrace.directFunctionsAllocated() ? 1 : 0);
    }

    /** The allocator type of ftrace's hashes. */
    static final String FTRACE_HASH = "ftrace_hash";

    /** Live objects of {@code type} in {@code snap}, net of the resident ones ({@code resident[i]} of type i). */
    private long net(MemorySnapshot snap, String type, List<Long> resident) {
        long n = snap.usage(type).liveObjects();
        for (int i = 0; i < residentTypes.size(); i++) {
            if (residentTypes.get(i).equals(type)) {
                n -= resident.get(i);
            }
        }
        return n;
    }

    /** Log lines that match {@code line} are the test's own doing, not residue. */
    public Residue expectLog(Predicate<KernelLog.Entry> line) {
        expected.add(line);
        return this;
    }

    /** Counts {@code what} as residue unless {@code clean}; for state only the caller can see. */
    public Residue require(boolean clean, String what) {
        if (!clean) {
            required.add(what);
        }
        return this;
    }

    /** An RCU stall warning: a grace period that waited for a reader. */
    static boolean isStallWarning(KernelLog.Entry e) {
        return e.level() == KernelLog.Level.WARNING && e.facility().equals("rcu") && e.message().contains("detected stall");
    }

    /** What is left, one line each (empty for a clean trial); call it after the last barrier and close. */
    public List<String> find() {
        List<String> out = new ArrayList<>(required);
        if (allocator != null) {
            MemorySnapshot now = allocator.snapshot();
            List<Long> residentNow = residentCounts.stream().map(LongSupplier::getAsLong).toList();
            for (String type : now.byType().keySet()) {
                long grew = net(now, type, residentNow) - net(before, type, residentBefore);
                if (grew > 0) {
                    out.add("leaked: " + type + " +" + grew + " objects");
                }
            }
        }
        for (Rcu rcu : domains) {
            RcuStats s = rcu.stats();
            if (s.callbacksQueued() != s.callbacksInvoked()) {
                out.add(rcu.flavor() + ": " + (s.callbacksQueued() - s.callbacksInvoked()) + " callbacks not run");
            }
        }
        long since = log.written() - logBefore;
        List<KernelLog.Entry> entries = log.entries();
        for (int i = (int) Math.max(0, entries.size() - since); i < entries.size(); i++) {
            KernelLog.Entry e = entries.get(i);
            if (e.level() != KernelLog.Level.INFO && !isStallWarning(e) && expected.stream().noneMatch(p -> p.test(e))) {
                out.add("log: " + e.level() + " " + e);
            }
        }
        return out;
    }

    /** Whether anything is left ({@link #find} is not empty). */
    public boolean found() {
        return !find().isEmpty();
    }

    /**
     * Whether {@code outcome}, a jcstress result as it prints (e.g. {@code "0, 1"}), is one of the
     * {@code acceptable} ids (literal outcomes, as the body's ACCEPTABLE {@code @Outcome}s list
     * them): only such a trial is reported as residue.
     */
    public static boolean accepted(Object outcome, String... acceptable) {
        return List.of(acceptable).contains(String.valueOf(outcome));
    }
}
