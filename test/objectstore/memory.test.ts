import { MemoryObjectStore } from '../../src/objectstore/index.ts';
import { objectStoreConformance } from './conformance.ts';

// The memory store buffers whole objects, so the 1 GiB case does not apply to it.
objectStoreConformance({
  name: 'memory',
  open: () => Promise.resolve(new MemoryObjectStore()),
  large: false,
  manyKeys: true,
});
