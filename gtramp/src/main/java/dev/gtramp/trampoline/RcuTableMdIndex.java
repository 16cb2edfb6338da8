package dev.gtramp.trampoline;

import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.lib.RcuLongHashTable;

/**
 * The md table on {@link RcuLongHashTable}, after v2's {@code kfunc_md_array}: {@code hash_ptr(ip,
 * bits)} buckets of RCU chains, grown at 90% and shrunk at 30% by publishing a rebuilt bucket array
 * and freeing the old one after a grace period. Its arrays are allocator objects
 * ({@code kfunc_md_array}), so a growth can fail ({@code alloc:kfunc_md_array}) and a leak shows.
 */
final class RcuTableMdIndex implements KfuncMdIndex {
    private final RcuLongHashTable<KfuncMd> table;
    /** {@link UnsafeVariant#KFUNC_MD_RELEASE_REMOVES_BY_IP}, for the stress suite. */
    private final boolean releaseRemovesByIp;

    RcuTableMdIndex(Kernel kernel) {
        this.table = new RcuLongHashTable<>(kernel, "kfunc_md");
        this.releaseRemovesByIp = kernel.config().unsafeVariants().contains(UnsafeVariant.KFUNC_MD_RELEASE_REMOVES_BY_IP);
    }

    @Override
    public KfuncMd find(Frame frame) {
        return table.lookup(frame.function().ip());
    }

    @Override
    public KfuncMd lookup(KernelFunction f) {
        return table.lookup(f.ip());
    }

    @Override
    public void insert(KfuncMd md) {
        table.insert(md.ip, md);
    }

    /**
     * Under {@code kfunc_md_mutex}, at the last put: the table holds this md under its ip (one md per
     * function, and the put is the md's last writer), so removing the key removes this md.
     */
    @Override
    public void remove(KfuncMd md) {
        table.remove(md.ip);
    }

    /**
     * Nothing to do: the md left the table at its put. By its free a new md may hold the function's
     * key, and it is not this md's to touch.
     */
    @Override
    public void released(KfuncMd md) {
        if (releaseRemovesByIp) {
            // Broken on purpose: deletes whatever the table holds under the ip, a new md included.
            table.remove(md.ip);
        }
    }

    @Override
    public int size() {
        return table.size();
    }
}
