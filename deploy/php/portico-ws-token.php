<?php
/**
 * Mints a portico-ws identity token (HS256 JWT) for the current PHP session, for WSS_AUTH_SECRET.
 *   $token = portico_ws_token(getenv('WSS_AUTH_SECRET'), session_id(), ['bb_user' => $bouser->ssn]);
 * Hand it to the page; the client sends it as ?token= on the WebSocket URL or as `token` in
 * update_session. `sid` must be the session the connection uses, and the token is short-lived.
 */
function portico_ws_token(string $secret, string $sessionId, array $identities, int $ttlSeconds = 300): string
{
    if (strlen($secret) < 32) {
        throw new InvalidArgumentException('portico_ws_token: the secret must be at least 32 characters');
    }
    $b64 = static fn (string $data): string => rtrim(strtr(base64_encode($data), '+/', '-_'), '=');
    $now = time();
    $header = $b64(json_encode(['alg' => 'HS256', 'typ' => 'JWT']));
    $claims = ['sid' => $sessionId, 'identities' => (object) array_map('strval', $identities), 'iat' => $now, 'exp' => $now + $ttlSeconds];
    $payload = $b64(json_encode($claims, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR));
    $signature = $b64(hash_hmac('sha256', "$header.$payload", $secret, true));
    return "$header.$payload.$signature";
}
