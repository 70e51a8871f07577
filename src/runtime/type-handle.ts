// TypeHandle bits (the runtime's TypeHandle: a MethodTable pointer, or a TypeDesc pointer tagged
// with bit 1), in one place for both backends and the commands.

/** TypeHandle low bits: 2 tags a TypeDesc (TypeHandleBits). */
export const TYPE_HANDLE_TYPEDESC_BIT = 2;

/** Whether a (non-null) TypeHandle is a TypeDesc rather than a MethodTable. */
export function isTypeDesc(typeHandle: number): boolean {
  return (typeHandle & TYPE_HANDLE_TYPEDESC_BIT) !== 0;
}

/** The TypeDesc a tagged TypeHandle points at. */
export function typeDescAddress(typeHandle: number): number {
  return typeHandle - TYPE_HANDLE_TYPEDESC_BIT;
}

/** Whether a TypeHandle is a MethodTable (not null, not a TypeDesc). */
export function isMethodTableHandle(typeHandle: number): boolean {
  return typeHandle !== 0 && !isTypeDesc(typeHandle);
}
