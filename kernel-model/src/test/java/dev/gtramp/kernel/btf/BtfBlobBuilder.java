package dev.gtramp.kernel.btf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes small BTF blobs by hand, in either byte order, for tests that need exact control over
 * records: the encodings follow {@code include/uapi/linux/btf.h} directly, independent of the reader.
 * Type ids are handed out in order from 1.
 */
final class BtfBlobBuilder {
    private final List<int[]> types = new ArrayList<>();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new HashMap<>();

    BtfBlobBuilder() {
        strings.write(0);
        stringOffsets.put("", 0);
    }

    static int info(BtfKind kind, int vlen, boolean kflag) {
        return (kflag ? 1 << 31 : 0) | kind.id() << 24 | vlen;
    }

    int str(String s) {
        return stringOffsets.computeIfAbsent(s, k -> {
            int off = strings.size();
            strings.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            strings.write(0);
            return off;
        });
    }

    /** Appends a record verbatim and returns its id. */
    int raw(int... words) {
        types.add(words.clone());
        return types.size();
    }

    int integer(String name, int size, int encoding) {
        return raw(str(name), info(BtfKind.INT, 0, false), size, encoding << 24 | size * 8);
    }

    int floating(String name, int size) {
        return raw(str(name), info(BtfKind.FLOAT, 0, false), size);
    }

    int ref(BtfKind kind, String name, int type) {
        return raw(str(name), info(kind, 0, false), type);
    }

    int ptr(int type) {
        return ref(BtfKind.PTR, "", type);
    }

    int array(int elem, int index, int nelems) {
        return raw(0, info(BtfKind.ARRAY, 0, false), 0, elem, index, nelems);
    }

    /** members: name, type, offset word (bit offset, or {@code bitfield size << 24 | offset} with kflag). */
    int composite(BtfKind kind, String name, int size, boolean kflag, Object... members) {
        int n = members.length / 3;
        int[] w = new int[3 + 3 * n];
        w[0] = str(name);
        w[1] = info(kind, n, kflag);
        w[2] = size;
        for (int i = 0; i < n; i++) {
            w[3 + 3 * i] = str((String) members[3 * i]);
            w[4 + 3 * i] = (Integer) members[3 * i + 1];
            w[5 + 3 * i] = (Integer) members[3 * i + 2];
        }
        return raw(w);
    }

    /** params: name, type pairs; a trailing ("", 0) is "...". */
    int proto(int ret, Object... params) {
        int n = params.length / 2;
        int[] w = new int[3 + 2 * n];
        w[1] = info(BtfKind.FUNC_PROTO, n, false);
        w[2] = ret;
        for (int i = 0; i < n; i++) {
            w[3 + 2 * i] = str((String) params[2 * i]);
            w[4 + 2 * i] = (Integer) params[2 * i + 1];
        }
        return raw(w);
    }

    int func(String name, int proto, int linkage) {
        return raw(str(name), info(BtfKind.FUNC, linkage, false), proto);
    }

    int typeCount() {
        return types.size();
    }

    /** Byte offset of type {@code id}'s record from the start of a blob built with the default header. */
    int offsetOf(int id) {
        int off = 24;
        for (int i = 0; i < id - 1; i++) {
            off += 4 * types.get(i).length;
        }
        return off;
    }

    byte[] build(ByteOrder order) {
        int typeLen = 0;
        for (int[] t : types) {
            typeLen += 4 * t.length;
        }
        byte[] str = strings.toByteArray();
        return build(order, 24, 0, typeLen, typeLen, str.length);
    }

    /** A blob whose header fields are given explicitly; the sections are laid out types then strings. */
    byte[] build(ByteOrder order, int hdrLen, int typeOff, int typeLen, int strOff, int strLen) {
        int typeBytes = 0;
        for (int[] t : types) {
            typeBytes += 4 * t.length;
        }
        byte[] str = strings.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(24 + typeBytes + str.length).order(order);
        b.putShort((short) 0xeB9F).put((byte) 1).put((byte) 0)
                .putInt(hdrLen).putInt(typeOff).putInt(typeLen).putInt(strOff).putInt(strLen);
        for (int[] t : types) {
            for (int w : t) {
                b.putInt(w);
            }
        }
        b.put(str);
        return b.array();
    }
}
