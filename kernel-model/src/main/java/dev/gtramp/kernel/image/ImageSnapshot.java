package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.btf.ArgClass;
import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.btf.Linkage;
import dev.gtramp.kernel.btf.Param;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The compact, xz-compressed form of a {@link KernelImage} that the library embeds, so that it
 * needs neither the original BTF and kallsyms nor {@code /sys} at run time.
 *
 * <p>Format (version 1), after xz decompression, big-endian: the magic {@code "GTIMG"}, a version
 * byte, the image name, the three {@link KernelImage.SourceCounts}, a string table (every name, C
 * type and reason once), then per function: name, linkage, return type/size/class, params
 * (name, type, size, class), argument registers, unsupported reason, ip, padding, address count and
 * decision. Small integers are LEB128 varints. Writing is deterministic: the same image always
 * gives the same bytes before compression, which the build checks against a fresh generation.
 */
public final class ImageSnapshot {
    private static final byte[] MAGIC = {'G', 'T', 'I', 'M', 'G'};
    private static final int VERSION = 1;

    private ImageSnapshot() {
    }

    /** Writes {@code image} xz-compressed to {@code out} (not closed). */
    public static void write(KernelImage image, OutputStream out) throws IOException {
        XZOutputStream xz = new XZOutputStream(new NonClosing(out), new LZMA2Options(LZMA2Options.PRESET_MAX));
        xz.write(encode(image));
        xz.finish();
    }

    /** The uncompressed encoding of {@code image}. */
    public static byte[] encode(KernelImage image) throws IOException {
        Map<String, Integer> strings = new HashMap<>();
        List<String> table = new ArrayList<>();
        for (ImageFunction f : image.functions()) {
            FunctionPrototype p = f.prototype();
            intern(strings, table, p.name());
            intern(strings, table, p.returnType());
            for (Param q : p.params()) {
                intern(strings, table, q.name());
                intern(strings, table, q.type());
            }
            if (p.unsupportedReason() != null) {
                intern(strings, table, p.unsupportedReason());
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 20);
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(MAGIC);
        out.writeByte(VERSION);
        out.writeUTF(image.name());
        KernelImage.SourceCounts sc = image.sourceCounts();
        out.writeInt(sc.kallsymsTextSymbols());
        out.writeInt(sc.kallsymsPaddingLabels());
        out.writeInt(sc.kallsymsFunctions());
        out.writeInt(table.size());
        for (String s : table) {
            out.writeUTF(s);
        }
        out.writeInt(image.functions().size());
        for (ImageFunction f : image.functions()) {
            FunctionPrototype p = f.prototype();
            varint(out, strings.get(p.name()));
            out.writeByte(p.linkage().ordinal());
            varint(out, strings.get(p.returnType()));
            varint(out, p.returnSize());
            out.writeByte(p.returnClass().ordinal());
            varint(out, p.params().size());
            for (Param q : p.params()) {
                varint(out, strings.get(q.name()));
                varint(out, strings.get(q.type()));
                varint(out, q.size());
                out.writeByte(q.argClass().ordinal());
            }
            varint(out, p.argRegs());
            varint(out, p.unsupportedReason() == null ? 0 : strings.get(p.unsupportedReason()) + 1);
            out.writeLong(f.ip());
            varint(out, f.paddingBytes());
            varint(out, f.addressCount());
            out.writeByte(f.decision().ordinal());
        }
        out.flush();
        return bytes.toByteArray();
    }

    /**
     * Reads a snapshot written by {@link #write}.
     *
     * @throws KernelException EINVAL if the stream is not a snapshot of this version, or is corrupt
     */
    public static KernelImage read(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(new BufferedInputStream(new XZInputStream(in), 1 << 16));
        try {
            return decode(data);
        } catch (EOFException e) {
            throw new KernelException(Errno.EINVAL, "truncated image snapshot", e);
        }
    }

    private static KernelImage decode(DataInputStream in) throws IOException {
        byte[] magic = in.readNBytes(MAGIC.length);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new KernelException(Errno.EINVAL, "not a gtramp image snapshot (bad magic)");
        }
        int version = in.readUnsignedByte();
        if (version != VERSION) {
            throw new KernelException(Errno.EINVAL, "image snapshot version " + version + ", this reader knows " + VERSION);
        }
        String name = in.readUTF();
        KernelImage.SourceCounts sc = new KernelImage.SourceCounts(in.readInt(), in.readInt(), in.readInt());
        String[] table = new String[count(in.readInt(), "strings")];
        for (int i = 0; i < table.length; i++) {
            table[i] = in.readUTF().intern();
        }
        int n = count(in.readInt(), "functions");
        List<ImageFunction> functions = new ArrayList<>(n);
        Linkage[] linkages = Linkage.values();
        ArgClass[] classes = ArgClass.values();
        TraceDecision[] decisions = TraceDecision.values();
        for (int i = 0; i < n; i++) {
            String fname = string(table, readVarint(in));
            Linkage linkage = linkages[index(in.readUnsignedByte(), linkages.length, fname)];
            String ret = string(table, readVarint(in));
            int retSize = readVarint(in);
            ArgClass retClass = classes[index(in.readUnsignedByte(), classes.length, fname)];
            int np = readVarint(in);
            List<Param> params = new ArrayList<>(np);
            for (int j = 0; j < np; j++) {
                String pname = string(table, readVarint(in));
                String ptype = string(table, readVarint(in));
                int size = readVarint(in);
                params.add(new Param(pname, ptype, size, classes[index(in.readUnsignedByte(), classes.length, fname)]));
            }
            int regs = readVarint(in);
            int reason = readVarint(in);
            FunctionPrototype p = new FunctionPrototype(fname, linkage, ret, retSize, retClass, params, regs,
                    reason == 0 ? null : string(table, reason - 1));
            long ip = in.readLong();
            int padding = readVarint(in);
            int addresses = readVarint(in);
            TraceDecision d = decisions[index(in.readUnsignedByte(), decisions.length, fname)];
            functions.add(new ImageFunction(i, p, ip, padding, addresses, d));
        }
        if (in.read() != -1) {
            throw new KernelException(Errno.EINVAL, "image snapshot has trailing bytes after " + n + " functions");
        }
        return new KernelImage(name, sc, functions);
    }

    private static int count(int n, String what) {
        if (n < 0 || n > 10_000_000) {
            throw new KernelException(Errno.EINVAL, "corrupt image snapshot: " + n + " " + what);
        }
        return n;
    }

    private static int index(int i, int limit, String function) {
        if (i >= limit) {
            throw new KernelException(Errno.EINVAL, "corrupt image snapshot: enum ordinal " + i + " at function " + function);
        }
        return i;
    }

    private static String string(String[] table, int i) {
        if (i < 0 || i >= table.length) {
            throw new KernelException(Errno.EINVAL, "corrupt image snapshot: string " + i + " of " + table.length);
        }
        return table[i];
    }

    private static void intern(Map<String, Integer> strings, List<String> table, String s) {
        if (strings.putIfAbsent(s, table.size()) == null) {
            table.add(s);
        }
    }

    private static void varint(DataOutputStream out, int v) throws IOException {
        if (v < 0) {
            throw new IllegalArgumentException("negative varint " + v);
        }
        while ((v & ~0x7f) != 0) {
            out.writeByte((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }

    private static int readVarint(DataInputStream in) throws IOException {
        int v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new KernelException(Errno.EINVAL, "corrupt image snapshot: varint too long");
    }

    /** Lets {@link XZOutputStream#finish()} complete without closing the caller's stream. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
