package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.mm.KernelObject;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * {@code struct ftrace_hash}: a set of instruction pointers, each with an optional direct target
 * ({@code ftrace_func_entry.direct}). ftrace uses it for an ops' filter and notrace sets, for the
 * global {@code direct_functions} table, and as the argument of {@code update_ftrace_direct_*}.
 *
 * <p>Open addressing with linear probing on a power-of-two table instead of the kernel's bucket
 * lists: a lookup on the call path is a few array reads and allocates nothing. Key 0 marks an empty
 * slot (no function starts at address 0).
 *
 * <p>Invariant: a hash is built by one thread (under {@code ftrace_lock} or by its owner) and only
 * then published; after publication its key set never changes, and the only write is
 * {@link #setDirect} on an existing entry, which {@code update_ftrace_direct_mod} does in place as
 * the kernel does ({@code entry->direct = new}). So readers need no lock: the publication (a
 * release) orders the keys, and each direct target is read with acquire against that release.
 *
 * <p>A freed hash is poisoned: its table is replaced by an empty one, and every lookup checks the
 * hash is live before and after reading it, so a reader that raced the free is reported as a
 * use-after-free instead of silently reading stale entries.
 */
public final class FtraceHash extends KernelObject {
    /** {@code FTRACE_HASH_MAX_BITS}: the kernel's cap on bucket bits (4096 buckets). */
    public static final int FTRACE_HASH_MAX_BITS = 12;
    private static final long[] POISONED_KEYS = new long[1];
    private static final CallTarget[] POISONED_DIRECTS = new CallTarget[1];
    private static final VarHandle DIRECTS = MethodHandles.arrayElementVarHandle(CallTarget[].class);

    private long[] keys;
    private CallTarget[] directs;
    private int count;
    /** The kernel's {@code size_bits}, kept only to mirror its sizing decisions in reports. */
    private final int sizeBits;

    FtraceHash(int sizeBits, int expected) {
        super("ftrace_hash", 64 + 8L * (1L << Math.max(0, sizeBits)));
        this.sizeBits = Math.max(0, Math.min(sizeBits, FTRACE_HASH_MAX_BITS));
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        this.keys = new long[cap];
        this.directs = new CallTarget[cap];
    }

    /** The number of entries of {@code h}, 0 for {@code null} ({@code EMPTY_HASH}). */
    static int countOf(FtraceHash h) {
        return h == null ? 0 : h.count();
    }

    /** {@code ftrace_hash_empty} of a hash that may be {@code null} ({@code EMPTY_HASH}). */
    static boolean empty(FtraceHash h) {
        return h == null || h.count() == 0;
    }

    /** {@code fls}: the position of the highest set bit, 1-based; 0 for 0 (how hashes are sized). */
    static int fls(int x) {
        return 32 - Integer.numberOfLeadingZeros(x);
    }

    /** The number of entries ({@code hash->count}). */
    public int count() {
        guard();
        return count;
    }

    /** {@code ftrace_hash_empty}. */
    public boolean isEmpty() {
        return count() == 0;
    }

    /** The kernel's bucket bits for this hash. */
    public int sizeBits() {
        return sizeBits;
    }

    /** {@code ftrace_lookup_ip}: whether {@code ip} is in the hash. */
    public boolean contains(long ip) {
        guard();
        return slot(keys, ip) >= 0;
    }

    /**
     * The direct target of {@code ip}, or {@code null} if {@code ip} is not in the hash or has no
     * direct target. On the call path ({@code ftrace_find_rec_direct}): no lock, no allocation.
     */
    public CallTarget findDirect(long ip) {
        guard();
        long[] k = keys;
        CallTarget[] d = directs;
        int i = slot(k, ip);
        // A free between the two loads above pairs the old keys with the poisoned directs.
        CallTarget t = i < 0 || i >= d.length ? null : (CallTarget) DIRECTS.getAcquire(d, i);
        // A free that raced this lookup poisoned the table; the second check reports it.
        guard();
        return t;
    }

    /**
     * {@code add_hash_entry} (+ {@code ->direct}): adds {@code ip}, which must not be present.
     * For a hash that is not yet published.
     */
    public void add(long ip, CallTarget direct) {
        guard();
        if (ip == 0) {
            throw new KernelException(Errno.EINVAL, "ip 0 in an ftrace hash");
        }
        if (slot(keys, ip) >= 0) {
            throw new KernelException(Errno.EEXIST, String.format("%#x is already in the hash", ip));
        }
        if ((count + 1) * 2 > keys.length) {
            grow();
        }
        insert(keys, directs, ip, direct);
        count++;
    }

    /** {@code add_hash_entry} without a direct target (a filter entry). */
    public void add(long ip) {
        add(ip, null);
    }

    /**
     * {@code remove_hash_entry} for a hash that is not yet published: removes {@code ip} if present
     * and returns whether it was.
     */
    public boolean remove(long ip) {
        guard();
        int i = slot(keys, ip);
        if (i < 0) {
            return false;
        }
        // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
        int mask = keys.length - 1;
        int hole = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            long k = keys[j];
            if (k == 0) {
                break;
            }
            int home = home(k, mask);
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                keys[hole] = k;
                directs[hole] = directs[j];
                hole = j;
            }
        }
        keys[hole] = 0;
        directs[hole] = null;
        count--;
        return true;
    }

    /**
     * Sets the direct target of an existing entry in place, as {@code update_ftrace_direct_mod}
     * does under {@code ftrace_lock}. Release: a reader that sees the new target sees it fully
     * constructed.
     */
    void setDirect(long ip, CallTarget direct) {
        guard();
        int i = slot(keys, ip);
        if (i < 0) {
            throw new KernelException(Errno.ENOENT, String.format("%#x is not in the hash", ip));
        }
        DIRECTS.setRelease(directs, i, direct);
    }

    /** The ips, sorted ascending (the order records are visited in). */
    public long[] ips() {
        guard();
        long[] out = new long[count];
        int n = 0;
        for (long k : keys) {
            if (k != 0) {
                out[n++] = k;
            }
        }
        Arrays.sort(out);
        return out;
    }

    /**
     * Copies every entry of {@code from} into this empty hash and returns how many: a copy of the
     * table's arrays when the capacities match (the common case of copying a big table into one
     * sized for a few more entries), a rehash otherwise.
     */
    int copyFrom(FtraceHash from) {
        guard();
        from.guard();
        if (count != 0) {
            throw new IllegalStateException("copyFrom into a non-empty hash");
        }
        if (keys.length != from.keys.length || (from.count + 1) * 2 > keys.length) {
            return addAll(from);
        }
        // Plain copies: the copier holds direct_mutex, which every writer of a published hash holds.
        System.arraycopy(from.keys, 0, keys, 0, keys.length);
        System.arraycopy(from.directs, 0, directs, 0, directs.length);
        count = from.count;
        return count;
    }

    /** Copies every entry of {@code from} into this hash (which must not hold any of them). */
    int addAll(FtraceHash from) {
        from.guard();
        long[] k = from.keys;
        CallTarget[] d = from.directs;
        int n = 0;
        for (int i = 0; i < k.length; i++) {
            if (k[i] != 0) {
                add(k[i], (CallTarget) DIRECTS.getAcquire(d, i));
                n++;
            }
        }
        return n;
    }

    private void grow() {
        long[] oldKeys = keys;
        CallTarget[] oldDirects = directs;
        long[] nk = new long[oldKeys.length * 2];
        CallTarget[] nd = new CallTarget[nk.length];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                insert(nk, nd, oldKeys[i], oldDirects[i]);
            }
        }
        keys = nk;
        directs = nd;
    }

    private static void insert(long[] k, CallTarget[] d, long ip, CallTarget direct) {
        int mask = k.length - 1;
        int i = home(ip, mask);
        while (k[i] != 0) {
            i = (i + 1) & mask;
        }
        k[i] = ip;
        d[i] = direct;
    }

    private static int slot(long[] k, long ip) {
        int mask = k.length - 1;
        int i = home(ip, mask);
        while (true) {
            long key = k[i];
            if (key == ip) {
                return i;
            }
            if (key == 0) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    /** {@code hash_long(ip, bits)}: a multiplicative hash; function addresses are 16-byte aligned. */
    private static int home(long ip, int mask) {
        long h = ip * 0x61c8864680b583ebL;
        return (int) (h >>> 32) & mask;
    }

    @Override
    protected void poison() {
        keys = POISONED_KEYS;
        directs = POISONED_DIRECTS;
        count = 0;
    }

    @Override
    public String toString() {
        return "ftrace_hash[" + (isLive() ? count + " entries" : "freed") + "]";
    }
}
