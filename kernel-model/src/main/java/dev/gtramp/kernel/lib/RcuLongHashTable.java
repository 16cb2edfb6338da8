package dev.gtramp.kernel.lib;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.mm.KernelObject;
import dev.gtramp.kernel.rcu.Rcu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A hash table keyed by a {@code long} (a function address) whose lookup runs under RCU alone: the
 * {@code kfunc_md} table of the global trampoline, after Menglong Dong's {@code struct
 * kfunc_md_array} (v2 of "bpf: tracing multi-link support": an array of {@code hlist_head}s
 * indexed by {@code hash_ptr(ip, hash_bits)}, grown by {@code kfunc_md_array_inc}) with the RCU-safe
 * resize of {@code lib/rhashtable.c}.
 *
 * <p><b>Layout.</b> The bucket array is a {@link KernelObject} of type {@code name + "_array"}, so
 * its allocation passes the fault point {@code "alloc:" + name + "_array"}, it shows in the
 * allocator's accounting, and a reader that uses it after its free is a KASAN report. Each bucket is
 * a chain of immutable {@link Node}s ({@code key}, {@code value}) linked by {@code next}, newest
 * first. The table starts with {@value #MIN_BITS} bits (16 buckets, v2's static
 * {@code default_mds}), doubles before an insert that finds {@code used * 10 >= buckets * 9}
 * ({@code kfunc_md_array_inc}) and halves after a remove that leaves
 * {@code used * 10 <= buckets * 3}, never below {@value #MIN_BITS} bits.
 *
 * <p><b>Readers.</b> {@link #lookup} takes no lock, allocates nothing and never blocks: an acquire
 * load of the array pointer ({@code rcu_dereference}), the array's guard, then acquire loads along
 * one chain ({@code hlist_for_each_entry_rcu}). The caller is inside a read-side critical section of
 * {@code kernel.rcu()} ({@code rcu_read_lock}, or a QSBR CPU inside a kernel call), and uses what it
 * found only inside that section or after taking a reference on it.
 *
 * <p><b>Writers</b> ({@link #insert}, {@link #remove}, {@link #close}) are serialised by the table's
 * own lock. The kernel's callers hold {@code kfunc_md_mutex} around the table and the md's other
 * state as well; the lock here makes the table correct on its own and costs them nothing, being
 * uncontended under that mutex.
 * <ul>
 *   <li>An insert publishes its node at the head of its chain with a release store
 *       ({@code hlist_add_head_rcu}): a reader that finds the node sees it built.</li>
 *   <li>A remove unlinks its node with a release store ({@code hlist_del_rcu}) and leaves the
 *       node's own {@code next} as it is, so a reader standing on the removed node walks on into
 *       the rest of the chain. What the caller frees with the value waits for a grace period, as
 *       the caller's own {@code call_rcu} does.</li>
 *   <li>A resize allocates the new array, fills it with <em>new</em> nodes, one per entry, and
 *       publishes it with a release store ({@code rcu_assign_pointer}); the old array and its nodes
 *       are left exactly as they were, so a reader still walking them finds every key that was
 *       present throughout. The old array is freed by an RCU callback ({@code call_rcu}), after
 *       every reader that could hold it has left its section. rhashtable moves its entries one at
 *       a time instead and makes a reader that misses in the old table retry in
 *       {@code future_tbl}; copying needs neither the retry nor the nulls markers that detect a
 *       diverted walk.</li>
 * </ul>
 *
 * <p>Invariant: a lookup of a key that is in the table from before the lookup starts until after it
 * ends finds it, whatever resizes run meanwhile, and no lookup touches a freed bucket array. A
 * failed grow ({@code ENOMEM}) leaves the table as it was and the key absent; a failed shrink keeps
 * the bigger array.
 *
 * @param <V> the value type, e.g. the {@code kfunc_md}
 *
 * <p>Over 400 lines because the table, its resize and its deliberately broken variants (which must
 * sit at the lines they break) are one algorithm; the nodes and bucket arrays are nested types.
 */
public final class RcuLongHashTable<V> implements AutoCloseable {
    /** The fewest bits, and the first array's: 16 buckets, as v2's {@code KFUNC_MD_HASH_BITS}. */
    public static final int MIN_BITS = 4;
    /** The most bits: past it the table stops growing and chains get longer. */
    public static final int MAX_BITS = 30;
    /** {@code GOLDEN_RATIO_64} of {@code include/linux/hash.h}. */
    static final long GOLDEN_RATIO_64 = 0x61C8864680B583EBL;

    private static final VarHandle ARRAY;

    static {
        try {
            ARRAY = MethodHandles.lookup().findVarHandle(RcuLongHashTable.class, "array", BucketArray.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final String arrayType;
    private final Allocator allocator;
    private final Rcu rcu;
    /** {@link UnsafeVariant#RCU_TABLE_RESIZE_IN_PLACE}: for the stress suite only. */
    private final boolean resizeInPlace;
    /** {@link UnsafeVariant#RCU_TABLE_DEL_CLEARS_NEXT}: for the stress suite only. */
    private final boolean delClearsNext;
    /** {@link UnsafeVariant#RCU_TABLE_FREE_ARRAY_AT_ONCE}: for the stress suite only. */
    private final boolean freeArrayAtOnce;
    /** Serialises the writers; {@code kfunc_md_mutex} in the kernel. */
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * The current bucket array ({@code kfunc_mds}). Written under {@link #lock} with release, read
     * by lookups with acquire. Accessed through {@link #ARRAY}.
     */
    @SuppressWarnings("unused")
    private BucketArray<V> array;
    /** Entries in the table. Written under {@link #lock}; volatile so {@link #size()} reads it anywhere. */
    private volatile int used;
    /** Under {@link #lock}. */
    private boolean closed;

    /**
     * Creates an empty table of 16 buckets. The first array is allocated without a fault point: it
     * stands for v2's static {@code default_mds}, which is never allocated at all.
     *
     * @param name the table's name; its bucket arrays have type {@code name + "_array"}
     */
    public RcuLongHashTable(Kernel kernel, String name) {
        this.name = Objects.requireNonNull(name, "name");
        this.arrayType = name + "_array";
        this.allocator = kernel.allocator();
        this.rcu = kernel.rcu();
        this.resizeInPlace = kernel.config().unsafeVariants().contains(UnsafeVariant.RCU_TABLE_RESIZE_IN_PLACE);
        this.delClearsNext = kernel.config().unsafeVariants().contains(UnsafeVariant.RCU_TABLE_DEL_CLEARS_NEXT);
        this.freeArrayAtOnce = kernel.config().unsafeVariants().contains(UnsafeVariant.RCU_TABLE_FREE_ARRAY_AT_ONCE);
        // Release: a lookup that reaches the table through any racy publication sees the array built.
        ARRAY.setRelease(this, allocator.allocNoFail(new BucketArray<V>(arrayType, MIN_BITS)));
    }

    /**
     * {@code hash_ptr(key, bits)} on 64 bits ({@code hash_64}): the top {@code bits} bits of
     * {@code key * GOLDEN_RATIO_64}, a bucket index for {@code 1 <= bits <= 31}.
     */
    public static int hashPtr(long key, int bits) {
        return (int) ((key * GOLDEN_RATIO_64) >>> (64 - bits));
    }

    // ---------------------------------------------------------------- the read side

    /**
     * The value stored under {@code key}, or {@code null}. Lock-free and allocation-free; the caller
     * is in a read-side critical section of the kernel's RCU.
     *
     * @throws dev.gtramp.kernel.mm.KasanException if the array it reached was freed (a use after
     *         free: the caller was outside a read-side section, or the table was closed)
     */
    @SuppressWarnings("unchecked")
    public V lookup(long key) {
        // rcu_dereference(kfunc_mds): acquire pairs with the release that published the array, so
        // its buckets and the nodes they lead to are seen as built.
        BucketArray<V> a = (BucketArray<V>) ARRAY.getAcquire(this);
        for (Node<V> n = a.head(hashPtr(key, a.bits)); n != null; n = n.next()) {
            if (n.key == key) {
                return n.value;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- writers

    /**
     * Adds {@code key -> value}, growing the table first if it is 90% full.
     *
     * @return {@code value}
     * @throws KernelException EEXIST if {@code key} is present; ENOMEM (from the fault point
     *                         {@code "alloc:" + name + "_array"}) if the grow could not allocate,
     *                         the table unchanged; EINVAL after {@link #close()}
     */
    public V insert(long key, V value) {
        Objects.requireNonNull(value, "value");
        lock.lock();
        try {
            BucketArray<V> a = current();
            if (find(a, key) != null) {
                throw new KernelException(Errno.EEXIST, String.format("%s: key %#x is present", name, key));
            }
            int u = used;
            if (a.bits < MAX_BITS && (long) u * 10 >= (long) a.buckets() * 9) {
                a = resize(a, a.bits + 1);
            }
            int i = hashPtr(key, a.bits);
            a.publishHead(i, new Node<>(key, value, a.headLocked(i)));
            used = u + 1;
            return value;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes {@code key}, then halves the table if it is at most 30% full. A failed shrink keeps
     * the bigger table.
     *
     * @return the value removed, or {@code null} if {@code key} was absent
     * @throws KernelException EINVAL after {@link #close()}
     */
    public V remove(long key) {
        lock.lock();
        try {
            BucketArray<V> a = current();
            int i = hashPtr(key, a.bits);
            Node<V> prev = null;
            for (Node<V> n = a.headLocked(i); n != null; prev = n, n = n.nextLocked()) {
                if (n.key != key) {
                    continue;
                }
                // hlist_del_rcu: the predecessor skips n; n keeps its next for a reader standing on it.
                if (prev == null) {
                    a.publishHead(i, n.nextLocked());
                } else {
                    prev.publishNext(n.nextLocked());
                }
                if (delClearsNext) {
                    n.publishNext(null); // Broken on purpose: hlist_del, not hlist_del_rcu.
                }
                int u = used - 1;
                used = u;
                if (a.bits > MIN_BITS && (long) u * 10 <= (long) a.buckets() * 3) {
                    try {
                        resize(a, a.bits - 1);
                    } catch (KernelException e) {
                        if (e.errno() != Errno.ENOMEM) {
                            throw e;
                        }
                        // A shrink is an optimisation: without memory the bigger table serves.
                    }
                }
                return n.value;
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves every entry into a new array of {@code bits} bits, publishes it and frees the old one
     * after a grace period. Caller holds {@link #lock}.
     *
     * @return the new array
     * @throws KernelException ENOMEM if the new array cannot be allocated; nothing changed then
     */
    private BucketArray<V> resize(BucketArray<V> old, int bits) {
        BucketArray<V> next = allocator.alloc(new BucketArray<V>(arrayType, bits));
        if (resizeInPlace) {
            relink(old, next);
        } else {
            copy(old, next);
        }
        // rcu_assign_pointer(kfunc_mds, new): release, so a lookup that loads the new array sees
        // it filled.
        ARRAY.setRelease(this, next);
        // Readers that loaded the old array before the store may still walk it: free it only after
        // every one of them has left its read-side section.
        if (freeArrayAtOnce) {
            allocator.free(old, arrayType + "_free"); // Broken on purpose: kfree, not kfree_rcu.
        } else {
            rcu.call(() -> allocator.free(old, arrayType + "_free_rcu"));
        }
        return next;
    }

    /**
     * Fills the unpublished array {@code to} with a new node for every entry of {@code from}, and
     * changes nothing a reader can reach. Plain stores: the release that publishes {@code to}
     * orders them.
     */
    private void copy(BucketArray<V> from, BucketArray<V> to) {
        for (int b = 0; b < from.buckets(); b++) {
            for (Node<V> n = from.headLocked(b); n != null; n = n.nextLocked()) {
                int j = hashPtr(n.key, to.bits);
                to.setHeadPlain(j, new Node<>(n.key, n.value, to.headLocked(j)));
            }
        }
    }

    /**
     * {@link UnsafeVariant#RCU_TABLE_RESIZE_IN_PLACE}, broken on purpose: moves the existing nodes
     * into {@code to} by rewriting their {@code next}, as a rehash of a table without readers
     * would. The old array's chains still lead to those nodes, so a lookup walking an old chain
     * (or starting one before {@code to} is published) follows a moved node into its new chain and
     * misses the keys behind it in the old one.
     */
    private void relink(BucketArray<V> from, BucketArray<V> to) {
        for (int b = 0; b < from.buckets(); b++) {
            Node<V> n = from.headLocked(b);
            while (n != null) {
                Node<V> rest = n.nextLocked();
                int j = hashPtr(n.key, to.bits);
                n.publishNext(to.headLocked(j));
                to.setHeadPlain(j, n);
                n = rest;
            }
        }
    }

    /**
     * Frees the bucket array. The table must be empty; lookups after this are uses after free.
     *
     * @throws KernelException EBUSY naming the table and its size if it is not empty
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (used != 0) {
                throw new KernelException(Errno.EBUSY, name + ": destroying a table with " + used + " entries");
            }
            BucketArray<V> a = current();
            closed = true;
            allocator.free(a, arrayType + "_destroy");
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- inspection

    /** Entries in the table now. */
    public int size() {
        return used;
    }

    /** Buckets of the current array. */
    @SuppressWarnings("unchecked")
    public int buckets() {
        return ((BucketArray<V>) ARRAY.getAcquire(this)).buckets();
    }

    /** Calls {@code action} for every entry, bucket by bucket, holding the writers' lock. */
    public void forEach(LongObjConsumer<? super V> action) {
        Objects.requireNonNull(action, "action");
        lock.lock();
        try {
            BucketArray<V> a = current();
            for (int b = 0; b < a.buckets(); b++) {
                for (Node<V> n = a.headLocked(b); n != null; n = n.nextLocked()) {
                    action.accept(n.key, n.value);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The current array, for tests that hold one across a resize. */
    @SuppressWarnings("unchecked")
    BucketArray<V> currentArray() {
        return (BucketArray<V>) ARRAY.getAcquire(this);
    }

    /** The current array; caller holds {@link #lock}, under which plain reads see the last write. */
    @SuppressWarnings("unchecked")
    private BucketArray<V> current() {
        if (closed) {
            throw new KernelException(Errno.EINVAL, name + ": used after destroy");
        }
        return (BucketArray<V>) ARRAY.get(this);
    }

    private static <V> Node<V> find(BucketArray<V> a, long key) {
        for (Node<V> n = a.headLocked(hashPtr(key, a.bits)); n != null; n = n.nextLocked()) {
            if (n.key == key) {
                return n;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return name + "[" + used + " entries, " + buckets() + " buckets]";
    }

    /** An action on one entry: a key and its value, without boxing the key. */
    @FunctionalInterface
    public interface LongObjConsumer<V> {
        void accept(long key, V value);
    }

    /**
     * One entry ({@code struct hlist_node} in the md). Key and value are final, so a reader that
     * reaches a node through an acquire load sees them; only {@code next} changes.
     */
    static final class Node<V> {
        private static final VarHandle NEXT;

        static {
            try {
                NEXT = MethodHandles.lookup().findVarHandle(Node.class, "next", Node.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final long key;
        final V value;
        /** Accessed through {@link #NEXT}. */
        @SuppressWarnings("unused")
        private Node<V> next;

        Node(long key, V value, Node<V> next) {
            this.key = key;
            this.value = value;
            this.next = next; // before publication; the publishing release orders it
        }

        /** {@code rcu_dereference(n->next)}: acquire, so the next node is seen as built. */
        @SuppressWarnings("unchecked")
        Node<V> next() {
            return (Node<V>) NEXT.getAcquire(this);
        }

        /** For writers under the lock: plain, the lock orders writers among themselves. */
        @SuppressWarnings("unchecked")
        Node<V> nextLocked() {
            return (Node<V>) NEXT.get(this);
        }

        /** {@code rcu_assign_pointer(prev->next, n)}: release, for a node readers can reach. */
        void publishNext(Node<V> n) {
            NEXT.setRelease(this, n);
        }
    }

    /**
     * A bucket array ({@code struct kfunc_md_array}): {@code 1 << bits} chain heads. Its size is a
     * pointer per bucket plus {@link #HEADER_BYTES}. The guard on each head load makes a reader
     * that reaches a freed array a KASAN report; freeing poisons the heads, so a reader that got
     * past the guard just before the free ends its walk instead of reading stale chains.
     */
    static final class BucketArray<V> extends KernelObject {
        /** The array's header: the {@code used} count and {@code hash_bits}. */
        static final long HEADER_BYTES = 8;
        private static final VarHandle HEADS = MethodHandles.arrayElementVarHandle(Node[].class);

        final int bits;
        private final Node<V>[] heads;

        @SuppressWarnings("unchecked")
        BucketArray(String type, int bits) {
            super(type, HEADER_BYTES + 8L * (1L << bits));
            this.bits = bits;
            this.heads = (Node<V>[]) new Node[1 << bits];
        }

        int buckets() {
            return heads.length;
        }

        /** A reader's load of bucket {@code i}'s head: the guard, then acquire ({@code hlist_first_rcu}). */
        @SuppressWarnings("unchecked")
        Node<V> head(int i) {
            guard();
            return (Node<V>) HEADS.getAcquire(heads, i);
        }

        /** A writer's load under the table's lock: guarded, plain. */
        @SuppressWarnings("unchecked")
        Node<V> headLocked(int i) {
            guard();
            return (Node<V>) HEADS.get(heads, i);
        }

        /** {@code rcu_assign_pointer(head->first, n)}: release, for an array readers can reach. */
        void publishHead(int i, Node<V> n) {
            HEADS.setRelease(heads, i, n);
        }

        /** A store into an array no reader can reach yet. */
        void setHeadPlain(int i, Node<V> n) {
            HEADS.set(heads, i, n);
        }

        /**
         * Drops the chains. Opaque: in a correct program no reader runs concurrently; under a
         * broken one the stores race with a reader's acquire loads and must not tear, which
         * reference stores never do.
         */
        @Override
        protected void poison() {
            for (int i = 0; i < heads.length; i++) {
                HEADS.setOpaque(heads, i, (Node<V>) null);
            }
        }
    }
}
