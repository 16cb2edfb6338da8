package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.ImageFunction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The {@code dyn_ftrace} table ({@code ftrace_pages}) and the record accounting of
 * {@code kernel/trace/ftrace.c}: {@code __ftrace_hash_rec_update} counts the enabled ops on each
 * record and sets the wanted flags, {@code ftrace_check_record} compares them with what the site
 * does now, {@code ftrace_get_addr_new} / {@code ftrace_get_addr_curr} name the call targets, and
 * {@code __ftrace_hash_update_ipmodify} keeps the record's {@code IPMODIFY} flag.
 *
 * <p>Invariant: a record's count is the number of enabled ops whose filter has its ip, and its
 * {@code _EN} flags say what its site calls; a record whose wanted flags differ from its
 * {@code _EN} flags is marked dirty in the update's {@link UndoLog}, and the update patches it.
 * Records are written only under {@code ftrace_lock}, every change with its undo.
 */
final class FtraceRecords {
    static final int UPDATE_IGNORE = 0;
    static final int UPDATE_MAKE_CALL = 1;
    static final int UPDATE_MODIFY_CALL = 2;
    static final int UPDATE_MAKE_NOP = 3;

    private final FtraceContext ctx;
    private final FtraceCallers callers;
    /** Records sorted by ip ({@code ftrace_pages}); index = position. */
    private final DynFtrace[] records;
    private final long[] recordIps;

    FtraceRecords(FtraceContext ctx, FtraceCallers callers) {
        this.ctx = ctx;
        this.callers = callers;
        List<DynFtrace> recs = new ArrayList<>();
        long lastIp = 0;
        List<KernelFunction> byIp = new ArrayList<>(ctx.kernel.functions());
        byIp.sort((a, b) -> Long.compare(a.ip(), b.ip()));
        for (KernelFunction f : byIp) {
            if (f.isTraceable() && f.ip() != lastIp) {
                recs.add(new DynFtrace(f));
                lastIp = f.ip();
            }
        }
        this.records = recs.toArray(new DynFtrace[0]);
        this.recordIps = new long[records.length];
        for (int i = 0; i < records.length; i++) {
            recordIps[i] = records[i].ip();
        }
    }

    // ---------------------------------------------------------------------------------------
    // The table

    /** {@code ftrace_location}: {@code ip} if a patch site starts there, else 0. */
    long ftraceLocation(long ip) {
        return Arrays.binarySearch(recordIps, ip) >= 0 ? ip : 0;
    }

    /** The record of the site at {@code ip}. */
    Optional<DynFtrace> record(long ip) {
        return Optional.ofNullable(rec(ip));
    }

    /** The number of patch sites. */
    int count() {
        return records.length;
    }

    /** Record number {@code index}, as {@link UndoLog#dirty} numbers them. */
    DynFtrace at(int index) {
        return records[index];
    }

    /** The records with a non-zero count, in address order. */
    List<DynFtrace> enabled() {
        List<DynFtrace> out = new ArrayList<>();
        for (DynFtrace r : records) {
            if (r.flags != 0 && (r.flags & ~DynFtrace.NOCLEAR_FLAGS) != 0) {
                out.add(r);
            }
        }
        return out;
    }

    private DynFtrace rec(long ip) {
        int i = Arrays.binarySearch(recordIps, ip);
        return i < 0 ? null : records[i];
    }

    /** The ip's function name and why it has no patch site, for error messages. */
    String describeIp(long ip) {
        Optional<ImageFunction> f = ctx.kernel.image().functionAt(ip);
        if (f.isEmpty()) {
            return String.format("%#x (no function starts there)", ip);
        }
        ImageFunction fn = f.get();
        return String.format("%s [%#x]", fn.name(), ip) + (fn.isTraceable() ? "" : " (not traceable: " + fn.decision().reason() + ")");
    }

    /** The function at {@code ip} with its address, for error messages. */
    String fn(long ip) {
        DynFtrace r = rec(ip);
        return r != null ? String.format("%s [%#x]", r.function().name(), ip) : describeIp(ip);
    }

    // ---------------------------------------------------------------------------------------
    // Record accounting (__ftrace_hash_rec_update, ftrace_check_record)

    /**
     * {@code __ftrace_hash_rec_update}: counts {@code ops} in ({@code inc}) or out of every record
     * its filter names. Returns whether a site must be patched. Caller holds {@code ftrace_lock}.
     */
    boolean hashRecUpdate(FtraceOps ops, boolean inc, UndoLog log) {
        if (!ops.has(FtraceOps.ENABLED)) {
            return false;
        }
        FtraceOps.OpsHash h = ops.funcHash;
        FtraceHash hash = h.filter;
        boolean update = false;
        if (FtraceHash.empty(hash)) {
            for (int i = 0; i < records.length; i++) {
                if (!h.inNotrace(recordIps[i])) {
                    update |= recUpdate(records[i], i, ops, inc, log);
                }
            }
        } else {
            for (long ip : hash.ips()) {
                int i = Arrays.binarySearch(recordIps, ip);
                if (i >= 0 && !h.inNotrace(ip)) {
                    update |= recUpdate(records[i], i, ops, inc, log);
                }
            }
        }
        return update;
    }

    private boolean recUpdate(DynFtrace rec, int index, FtraceOps ops, boolean inc, UndoLog log) {
        int f = rec.flags;
        if ((f & DynFtrace.DISABLED) != 0 && (f & DynFtrace.ENABLED) == 0) {
            return false;
        }
        log.saveRec(rec, index);
        int cnt = f & DynFtrace.FTRACE_REF_MAX;
        if (inc) {
            if (cnt == DynFtrace.FTRACE_REF_MAX) {
                throw new KernelException(Errno.EBUSY, fn(rec.ip()) + " is traced by " + cnt + " ops, FTRACE_REF_MAX");
            }
            f++;
            cnt++;
            if (ops.has(FtraceOps.DIRECT)) {
                f |= DynFtrace.DIRECT;
            }
            f = cnt == 1 && ops.trampoline != null ? f | DynFtrace.TRAMP : f & ~DynFtrace.TRAMP;
            if (ops.has(FtraceOps.SAVE_REGS)) {
                f |= DynFtrace.REGS;
            }
        } else {
            if (cnt == 0) {
                throw new KernelException(Errno.EINVAL, fn(rec.ip()) + ": record count underflow removing " + ops);
            }
            f--;
            cnt--;
            if (ops.has(FtraceOps.DIRECT)) {
                f &= ~DynFtrace.DIRECT;
            }
            if (cnt > 0 && (f & DynFtrace.REGS) != 0 && ops.has(FtraceOps.SAVE_REGS) && !recOpsNeedRegs(rec.ip())) {
                f &= ~DynFtrace.REGS;
            }
            f = cnt == 1 && findTrampOpsAnyOther(rec.ip(), ops) != null ? f | DynFtrace.TRAMP : f & ~DynFtrace.TRAMP;
        }
        rec.flags = f;
        log.dirty.set(index);
        ctx.count(Cost.RECORD_UPDATES);
        return checkRecord(rec, false) != UPDATE_IGNORE;
    }

    private boolean recOpsNeedRegs(long ip) {
        for (FtraceOps op : ctx.opsList) {
            if (op.has(FtraceOps.SAVE_REGS) && op.funcHash.containsIp(ip)) {
                return true;
            }
        }
        return false;
    }

    private FtraceOps findTrampOpsAnyOther(long ip, FtraceOps exclude) {
        for (FtraceOps op : ctx.opsList) {
            if (op != exclude && op.trampoline != null && op.funcHash.containsIp(ip)) {
                return op;
            }
        }
        return null;
    }

    /** {@code ftrace_check_record(rec, enable = 1, update)}. */
    static int checkRecord(DynFtrace rec, boolean update) {
        int f = rec.flags;
        if ((f & DynFtrace.DISABLED) != 0 && (f & DynFtrace.ENABLED) == 0) {
            return UPDATE_IGNORE;
        }
        int cnt = f & DynFtrace.FTRACE_REF_MAX;
        int flag = 0;
        if (cnt != 0) {
            flag = DynFtrace.ENABLED;
            if (((f & DynFtrace.REGS) != 0) != ((f & DynFtrace.REGS_EN) != 0)) {
                flag |= DynFtrace.REGS;
            }
            if (((f & DynFtrace.TRAMP) != 0) != ((f & DynFtrace.TRAMP_EN) != 0)) {
                flag |= DynFtrace.TRAMP;
            }
            if (cnt == 1) {
                if (((f & DynFtrace.DIRECT) != 0) != ((f & DynFtrace.DIRECT_EN) != 0)) {
                    flag |= DynFtrace.DIRECT;
                }
            } else if ((f & DynFtrace.DIRECT_EN) != 0) {
                flag |= DynFtrace.DIRECT;
            }
        }
        if ((f & DynFtrace.ENABLED) == flag) {
            return UPDATE_IGNORE;
        }
        if (flag != 0) {
            flag ^= f & DynFtrace.ENABLED;
            if (update) {
                f |= DynFtrace.ENABLED | DynFtrace.TOUCHED;
                if ((flag & DynFtrace.REGS) != 0) {
                    f = (f & DynFtrace.REGS) != 0 ? f | DynFtrace.REGS_EN : f & ~DynFtrace.REGS_EN;
                }
                if ((flag & DynFtrace.TRAMP) != 0) {
                    f = (f & DynFtrace.TRAMP) != 0 ? f | DynFtrace.TRAMP_EN : f & ~DynFtrace.TRAMP_EN;
                }
                if ((f & (DynFtrace.DIRECT | DynFtrace.IPMODIFY)) != 0) {
                    f |= DynFtrace.MODIFIED;
                }
                if ((flag & DynFtrace.DIRECT) != 0) {
                    f = cnt == 1 && (f & DynFtrace.DIRECT) != 0 ? f | DynFtrace.DIRECT_EN : f & ~DynFtrace.DIRECT_EN;
                }
                rec.flags = f;
            }
            return (flag & DynFtrace.ENABLED) != 0 ? UPDATE_MAKE_CALL : UPDATE_MODIFY_CALL;
        }
        if (update) {
            rec.flags = cnt == 0 ? f & DynFtrace.NOCLEAR_FLAGS
                    : f & ~(DynFtrace.ENABLED | DynFtrace.TRAMP_EN | DynFtrace.REGS_EN | DynFtrace.DIRECT_EN | DynFtrace.CALL_OPS_EN);
        }
        return UPDATE_MAKE_NOP;
    }

    /** {@code ftrace_get_addr_new}: what the site should call, from the wanted flags. */
    CallTarget addrNew(DynFtrace rec) {
        int f = rec.flags;
        if ((f & DynFtrace.DIRECT) != 0 && (f & DynFtrace.FTRACE_REF_MAX) == 1) {
            CallTarget a = ctx.findRecDirect(rec.ip());
            if (a != null) {
                return a;
            }
            ctx.kernel.log().warn("ftrace", "WARN_ON_ONCE: no direct_functions entry for " + fn(rec.ip()));
        }
        if ((f & DynFtrace.TRAMP) != 0) {
            for (FtraceOps op : ctx.opsList) {
                if (op.trampoline != null && op.funcHash.containsIp(rec.ip())) {
                    return op.trampoline;
                }
            }
            ctx.kernel.log().warn("ftrace", "No trampoline found for " + fn(rec.ip()));
            return callers.ftraceCaller;
        }
        return (f & DynFtrace.REGS) != 0 ? callers.ftraceRegsCaller : callers.ftraceCaller;
    }

    /**
     * {@code ftrace_get_addr_curr}: what the site calls now, from the {@code _EN} flags. Only direct
     * ops have trampolines in the model, and theirs is the regs caller.
     */
    CallTarget addrCurr(DynFtrace rec) {
        int f = rec.flags;
        if ((f & DynFtrace.DIRECT_EN) != 0) {
            CallTarget a = ctx.findRecDirect(rec.ip());
            if (a != null) {
                return a;
            }
        }
        if ((f & DynFtrace.TRAMP_EN) != 0) {
            return callers.ftraceRegsCaller;
        }
        return (f & DynFtrace.REGS_EN) != 0 ? callers.ftraceRegsCaller : callers.ftraceCaller;
    }

    // ---------------------------------------------------------------------------------------
    // IPMODIFY negotiation

    /**
     * {@code __ftrace_hash_update_ipmodify}: {@code null} hashes mean "every function" (refused),
     * {@code EMPTY_HASH} none.
     */
    void hashUpdateIpmodify(FtraceOps ops, FtraceHash oldHash, FtraceHash newHash, boolean updateTarget, UndoLog log) {
        if (!ops.has(FtraceOps.ENABLED)) {
            return;
        }
        boolean isIpmodify = ops.has(FtraceOps.IPMODIFY);
        boolean isDirect = ops.has(FtraceOps.DIRECT);
        if (!isIpmodify && !isDirect) {
            return;
        }
        if (isIpmodify && isDirect) {
            ctx.kernel.log().warn("ftrace", "WARN_ON_ONCE: " + ops + " is both IPMODIFY and DIRECT");
            return;
        }
        if (oldHash == null || newHash == null) {
            throw new KernelException(Errno.EINVAL, ops + " is " + (isDirect ? "DIRECT" : "IPMODIFY")
                    + " and may not trace every function: give it a filter");
        }
        long[] ips = union(oldHash.ips(), newHash.ips());
        List<Runnable> local = new ArrayList<>();
        for (long ip : ips) {
            int i = Arrays.binarySearch(recordIps, ip);
            if (i < 0) {
                continue;
            }
            DynFtrace rec = records[i];
            boolean inOld = oldHash.contains(ip);
            boolean inNew = newHash.contains(ip);
            if (!updateTarget && inOld == inNew) {
                continue;
            }
            if (inNew) {
                if (rec.has(DynFtrace.IPMODIFY)) {
                    if (isIpmodify) {
                        for (int k = local.size() - 1; k >= 0; k--) {
                            local.get(k).run();
                        }
                        throw new KernelException(Errno.EBUSY, fn(ip) + " already has an IPMODIFY ops; " + ops + " cannot modify it too");
                    }
                    if (ops.opsFunc == null) {
                        throw new KernelException(Errno.EBUSY, fn(ip) + " has an IPMODIFY ops and " + ops + " has no ops_func to share it");
                    }
                    int ret = ops.opsFunc.apply(ops, ip, OpsCmd.ENABLE_SHARE_IPMODIFY_SELF);
                    if (ret != 0) {
                        throw new KernelException(Errno.of(ret), "ops_func of " + ops + " answered " + Errno.of(ret)
                                + " to ENABLE_SHARE_IPMODIFY_SELF for " + fn(ip));
                    }
                } else if (isIpmodify) {
                    log.saveRec(rec, i);
                    int old = rec.flags;
                    rec.flags = old | DynFtrace.IPMODIFY;
                    local.add(() -> rec.flags = old);
                }
            } else if (isIpmodify) {
                log.saveRec(rec, i);
                int old = rec.flags;
                rec.flags = old & ~DynFtrace.IPMODIFY;
                local.add(() -> rec.flags = old);
            }
        }
    }

    private static long[] union(long[] a, long[] b) {
        long[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        Arrays.sort(all);
        int n = 0;
        for (int i = 0; i < all.length; i++) {
            if (n == 0 || all[n - 1] != all[i]) {
                all[n++] = all[i];
            }
        }
        return Arrays.copyOf(all, n);
    }
}
