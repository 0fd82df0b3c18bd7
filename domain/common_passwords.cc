#include "domain/validation.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace roster {

namespace {
// A bundled sample of the most common leaked passwords (lowercase).
constexpr std::array<std::string_view, 170> common = {
  "123456", "password", "12345678", "qwerty", "123456789", "12345",
  "1234", "111111", "1234567", "dragon", "123123", "baseball",
  "abc123", "football", "monkey", "letmein", "696969", "shadow",
  "master", "666666", "qwertyuiop", "123321", "mustang", "1234567890",
  "michael", "654321", "superman", "1qaz2wsx", "7777777", "121212",
  "000000", "qazwsx", "123qwe", "killer", "trustno1", "jordan",
  "jennifer", "zxcvbnm", "asdfgh", "hunter", "buster", "soccer",
  "harley", "batman", "andrew", "tigger", "sunshine", "iloveyou",
  "2000", "charlie", "robert", "thomas", "hockey", "ranger",
  "daniel", "starwars", "klaster", "112233", "george", "computer",
  "michelle", "jessica", "pepper", "1111", "zxcvbn", "555555",
  "11111111", "131313", "freedom", "777777", "pass", "maggie",
  "159753", "aaaaaa", "ginger", "princess", "joshua", "cheese",
  "amanda", "summer", "love", "ashley", "nicole", "chelsea",
  "biteme", "matthew", "access", "yankees", "987654321", "dallas",
  "austin", "thunder", "taylor", "matrix", "minecraft", "passw0rd",
  "password1", "password123", "welcome", "welcome1", "admin", "admin123",
  "administrator", "qwerty123", "abc12345", "iloveyou1", "football1", "baseball1",
  "letmein1", "master123", "sunshine1", "princess1", "qwerty1", "1q2w3e4r",
  "1q2w3e4r5t", "q1w2e3r4", "zaq12wsx", "11223344", "12341234", "87654321",
  "00000000", "99999999", "88888888", "12344321", "asdfghjkl", "asdf1234",
  "changeme", "secret123", "whatever", "dragon123", "monkey123", "shadow123",
  "superman1", "batman123", "loveme", "pokemon", "naruto", "fortnite",
  "roblox", "gamer123", "player1", "playerone", "123abc", "abcd1234",
  "qwer1234", "1234qwer", "password12", "p@ssw0rd", "p@ssword", "iloveyou!",
  "starwars1", "letmein123", "welcome123", "hello123", "helloworld", "internet",
  "samsung", "google1", "apple123", "1234abcd", "test1234", "testtest",
  "guest123", "login123", "default", "root1234", "toor1234", "azerty",
  "azerty123", "qwertz",
};
} // namespace

bool is_common_password(std::string_view password) {
  std::string lower(password);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(common.begin(), common.end(), lower) != common.end();
}

} // namespace roster
