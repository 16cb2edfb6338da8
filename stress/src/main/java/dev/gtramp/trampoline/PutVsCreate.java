package dev.gtramp.trampoline;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code kfunc_md_put} racing {@code kfunc_md_create}: the md an attach gets is never
 * unpublished or freed while it has users.</b>
 *
 * <pre>
 *   detach (the md's one link)              attach
 *   kfunc_md_bpf_unlink(md, P1)             md2 = kfunc_md_create(f)
 *   kfunc_md_put(md)                          (found: users++; else a new md)
 *     (under kfunc_md_mutex: users--;       kfunc_md_bpf_link(md2, P2)
 *     the last: unpublish, free after
 *     the protocol's grace periods)
 *
 *   arbiter: run every callback; md2 must be live, published, one user, P2 alone
 * </pre>
 *
 * {@code f}'s md has one user, the link of P1, which the detach closes while another link attaches
 * P2 to {@code f}. Under {@code kfunc_md_mutex} either the create comes first (the md gets a second
 * user, and the put leaves it with one) or the put does (the md goes, and the create makes a new
 * one); either way the attach holds a published md with one user and P2 alone.
 *
 * <p>The hazard: a create that finds the md just before a put takes its last user. Without the
 * mutex the put can count the users down to zero and unpublish the md after the create found it,
 * and the attach links its program into an md that is then freed (or a racing increment is lost).
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 md2 is live, published, with one user and P2 alone;
 * 1 md2 was unpublished or freed while the attach held it; 2 md2 is published but its users or
 * programs are wrong; 3 an actor threw; {@code r2} whether KASAN reported anything.
 * <ul>
 *   <li>{@code 0, 0}: the attach holds a live md;</li>
 *   <li>{@code 1, *}: FORBIDDEN, the md the attach holds went away under it;</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once it had released
 *       its md and every callback had run (live objects, callbacks, retiring mds, warnings: see
 *       {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link KfuncMdPutVsCreateUnlockedBroken}, which must show {@code 1, 0}.
 */
@Description("the last put racing a create: the md the attach gets stays live and published")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the attach holds a live, published md with one user")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "the md the attach holds was unpublished or freed")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "wrong users or programs, an exception, or a KASAN report")
public abstract class PutVsCreate extends MdUsersTrial {
    private final BpfProg p1 = multi("p1");
    private final BpfProg p2 = multi("p2");
    private final KfuncMd md;
    private KfuncMd md2;
    private boolean detachFailed;

    PutVsCreate(Set<UnsafeVariant> unsafe) {
        super(unsafe);
        md = createAndLink(p1);
        setupDone();
    }

    final void detach() {
        try {
            mds.unlink(md, p1);
            mds.put(md);
        } catch (RuntimeException e) {
            detachFailed = true;
        }
    }

    final void attach() {
        md2 = createAndLink(p2);
    }

    final void check(II_Result r) {
        settle();
        if (detachFailed || md2 == null) {
            r.r1 = 3;
        } else if (md2.isFreed() || published() != md2) {
            r.r1 = 1;
        } else {
            r.r1 = users(md2) == 1 && hasExactly(md2, p2) ? 0 : 2;
        }
        if (r.r1 == 0) {
            // The detach path's share, so that the md the attach made is no residue.
            release(md2, p2);
        }
        r.r2 = finish();
        if (residue(r, "0, 0")) {
            r.r2 = Residue.VALUE;
        }
    }
}
