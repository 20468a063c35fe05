// ESM entry: the very objects of the CommonJS entry (so `instanceof WeirError` holds across both).
import weir from './index.js';

export const { Admin, Producer, Consumer, ConsumerRecord, WeirError, partitionForKey, errorCodes, version } = weir;
export default weir;
