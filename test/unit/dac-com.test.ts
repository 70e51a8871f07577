// The COM plumbing of the DAC backend (src/runtime/dac/com.ts), exercised through real native
// calls: a JS-implemented COM object is called through its vtable by koffi, as the DAC calls our
// data target. Checks GUID byte order against the Windows SDK's documented IUnknown bytes,
// QueryInterface's answers, the request structs' sizes against dacprivate.h, and that a throwing JS method returns E_FAIL to the caller instead of
// unwinding through native frames.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ComPtr, E_FAIL, E_NOINTERFACE, guidBytes, JsComObject, S_OK } from "../../src/runtime/dac/com.js";
import { loadKoffi } from "../../src/runtime/dac/koffi.js";
import { DACP_STRUCT_SIZES, structs } from "../../src/runtime/dac/sos-dac.js";

const { koffi, error } = loadKoffi();

describe("DAC COM plumbing", { skip: error ?? false }, () => {
  test("GUIDs are laid out as in memory: Data1-3 little-endian, Data4 as written", () => {
    // IID_IUnknown {00000000-0000-0000-C000-000000000046}
    assert.deepEqual([...guidBytes("00000000-0000-0000-C000-000000000046")], [0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46]);
    assert.deepEqual([...guidBytes("{3E11CCEE-D08B-43e5-AF01-32717A64DA03}").slice(0, 8)], [0xee, 0xcc, 0x11, 0x3e, 0x8b, 0xd0, 0xe5, 0x43]);
    assert.throws(() => guidBytes("not-a-guid"));
  });

  test("the Dacp request structs have the sizes dacprivate.h freezes", () => {
    const types = structs(koffi!);
    for (const [name, size] of Object.entries(DACP_STRUCT_SIZES)) assert.equal(koffi!.sizeof(types[name as keyof typeof DACP_STRUCT_SIZES]), size, name);
  });

  test("a JS COM object called through its vtable: methods, QueryInterface, exceptions become E_FAIL", () => {
    const iidA = guidBytes("11111111-2222-3333-4444-555555555555");
    const iidB = guidBytes("66666666-7777-8888-9999-aaaaaaaaaaaa");
    const obj = new JsComObject(koffi!, [
      {
        iid: iidA,
        methods: [
          {
            proto: "int Twice(void *self, uint32_t x, uint32_t *out)",
            body: (_s: bigint, x: number, out: bigint) => {
              koffi!.encode(out, "uint32_t", x * 2);
              return S_OK;
            },
          },
          {
            proto: "int Throws(void *self)",
            body: () => {
              throw new Error("must not cross the FFI boundary");
            },
          },
        ],
      },
      { iid: iidB, methods: [{ proto: "int Answer(void *self, uint32_t *out)", body: (_s: bigint, out: bigint) => (koffi!.encode(out, "uint32_t", 42), S_OK) }] },
    ]);
    const a = new ComPtr(koffi!, obj.pointer);
    const out = new Uint32Array(1);
    assert.equal(a.call(3, "int Twice(void *self, uint32_t x, uint32_t *out)", 21, out), S_OK);
    assert.equal(out[0], 42);
    assert.equal(a.call(4, "int Throws(void *self)"), E_FAIL);

    const b = a.queryInterface(iidB);
    assert.ok(b.itf);
    assert.notEqual(b.itf.ptr, a.ptr);
    out[0] = 0;
    assert.equal(b.itf.call(3, "int Answer(void *self, uint32_t *out)", out), S_OK);
    assert.equal(out[0], 42);
    assert.equal(b.itf.queryInterface(guidBytes("00000000-0000-0000-C000-000000000046")).itf?.ptr, a.ptr, "IUnknown is the first interface");
    assert.equal(a.queryInterface(iidA).itf?.ptr, a.ptr);
    const none = a.queryInterface(guidBytes("deadbeef-0000-0000-0000-000000000000"));
    assert.equal(none.itf, undefined);
    assert.equal(none.hr, E_NOINTERFACE);
  });
});
