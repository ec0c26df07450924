/** The server's room-name rule, mirrored so mistakes are caught before a round trip. */
export const ROOM_NAME_RULE = '1–64 characters: lowercase letters a–z, digits 0–9, "_" or "-"';

/** Room names are trimmed and lower-cased by the server before the rule applies. */
export function normalizeRoomName(value: string): string {
  return value.trim().toLowerCase();
}

export function isValidRoomName(value: string): boolean {
  return /^[a-z0-9_-]{1,64}$/.test(normalizeRoomName(value));
}

export const USERNAME_RULE = '3–32 characters: letters, digits, "_", "." or "-"';

export function isValidUsername(value: string): boolean {
  return /^[A-Za-z0-9_.-]{3,32}$/.test(value.trim());
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;
export const MAX_MESSAGE_LENGTH = 4000;
