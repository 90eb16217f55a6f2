/**
 * Byte encoding at the API boundary: every byte field in JSON is unpadded base64url. Re-exported
 * here so the service (which may import only `sdk/wire`) and the SDK's HTTP client share one
 * strict implementation.
 */
import { fromBase64Url, toBase64Url, tryFromBase64Url } from '../../util/bytes.ts';

export { fromBase64Url, toBase64Url, tryFromBase64Url };
